{{ config(materialized='table') }}

{%- set max_chars = var('max_text_chars', 8000) %}

with

source as (
    select * from {{ source_or_empty('synthetic', 'support_tickets') }}
),

customers as (
    select customer_id from {{ ref('stg_synthetic__customers') }}
),

typed as (
    select
        {{ typed_source_columns('synthetic', 'support_tickets', 'source') }},
        {{ row_hash('source') }} as _row_hash
    from source
),

-- PII never passes staging: free text is redacted (python_jobs/text/redact.py rules) before anything else.
redacted as (
    select
        typed.*,
        {{ redact_text('typed.subject') }} as subject_redacted,
        {{ redact_text('typed.body') }} as body_redacted
    from typed
),

row_checks as (
    select
        *,
        case
            when _unparseable_columns is not null then 'unparseable_value'
            when ticket_id is null then 'null_id'
            when customer_id is null then 'null_customer_id'
            when created_at is null then 'null_timestamp'
            when subject is null and body is null then 'empty_text'
            when cast(created_at as date) > {{ max_valid_date() }} then 'future_timestamp'
        end as _row_reason
    from redacted
),

ranked as (
    select
        *,
        {{ duplicate_ranks('ticket_id', 'created_at') }}
    from row_checks
)

select
    ranked.ticket_id,
    ranked.customer_id,
    ranked.order_id,
    ranked.created_at,
    lower(ranked.channel) as channel,
    left(ranked.subject_redacted, {{ max_chars }}) as subject,
    left(ranked.body_redacted, {{ max_chars }}) as body,
    lower(ranked.language) as language,
    coalesce(
        length(ranked.body_redacted) > {{ max_chars }} or length(ranked.subject_redacted) > {{ max_chars }}, false
    ) as is_text_truncated,
    coalesce(ranked.ticket_id, '_row:' || cast(ranked._row_hash as varchar)) as row_key,
    ranked._unparseable_columns as quarantine_detail,
    coalesce(
        ranked._row_reason,
        case
            when ranked._copy_number > 1 then 'duplicate_row'
            when ranked._id_rank > 1 then 'duplicate_id'
            when customers.customer_id is null then 'orphan_customer'
        end
    ) as quarantine_reason
from ranked
left join customers on ranked.customer_id = customers.customer_id
