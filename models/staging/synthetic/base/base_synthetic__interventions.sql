{{ config(materialized='table') }}

with

source as (
    select * from {{ source_or_empty('synthetic', 'interventions') }}
),

customers as (
    select customer_id from {{ ref('stg_synthetic__customers') }}
),

typed as (
    select
        {{ typed_source_columns('synthetic', 'interventions', 'source') }},
        {{ row_hash('source') }} as _row_hash
    from source
),

row_checks as (
    select
        *,
        case
            when _unparseable_columns is not null then 'unparseable_value'
            when intervention_id is null then 'null_id'
            when customer_id is null then 'null_customer_id'
            when sent_at is null then 'null_timestamp'
            when coalesce(lower(arm), '') not in ('treatment', 'control') then 'invalid_arm'
            when unit_cost < 0 then 'negative_amount'
            when cast(sent_at as date) > {{ max_valid_date() }} then 'future_timestamp'
        end as _row_reason
    from typed
),

ranked as (
    select
        *,
        {{ duplicate_ranks('intervention_id', 'sent_at') }}
    from row_checks
)

select
    ranked.intervention_id,
    ranked.customer_id,
    ranked.campaign_id,
    ranked.sent_at,
    lower(ranked.action) as action,
    lower(ranked.channel) as channel,
    lower(ranked.arm) as arm,
    ranked.unit_cost,
    coalesce(ranked.intervention_id, '_row:' || cast(ranked._row_hash as varchar)) as row_key,
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
