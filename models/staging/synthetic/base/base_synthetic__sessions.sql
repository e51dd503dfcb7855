{{ config(materialized='table') }}

with

source as (
    select * from {{ source_or_empty('synthetic', 'sessions') }}
),

customers as (
    select customer_id from {{ ref('stg_synthetic__customers') }}
),

typed as (
    select
        {{ typed_source_columns('synthetic', 'sessions', 'source') }},
        {{ row_hash('source') }} as _row_hash
    from source
),

row_checks as (
    select
        *,
        case
            when _unparseable_columns is not null then 'unparseable_value'
            when session_id is null then 'null_id'
            when customer_id is null then 'null_customer_id'
            when started_at is null then 'null_timestamp'
            when page_views < 0 or cart_adds < 0 then 'negative_count'
            when cast(started_at as date) > {{ max_valid_date() }} then 'future_timestamp'
        end as _row_reason
    from typed
),

ranked as (
    select
        *,
        {{ duplicate_ranks('session_id', 'started_at') }}
    from row_checks
)

select
    ranked.session_id,
    ranked.customer_id,
    ranked.started_at,
    lower(ranked.device) as device,
    coalesce(ranked.is_login, false) as is_login,
    coalesce(ranked.page_views, 0) as page_views,
    coalesce(ranked.cart_adds, 0) as cart_adds,
    coalesce(ranked.session_id, '_row:' || cast(ranked._row_hash as varchar)) as row_key,
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
