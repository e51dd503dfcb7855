{{ config(materialized='table', post_hook="{{ require_rows('synthetic', 'orders') }}") }}

with

source as (
    select * from {{ source_or_empty('synthetic', 'orders') }}
),

customers as (
    select customer_id from {{ ref('stg_synthetic__customers') }}
),

typed as (
    select
        {{ typed_source_columns('synthetic', 'orders', 'source') }},
        {{ row_hash('source') }} as _row_hash
    from source
),

row_checks as (
    select
        *,
        case
            when _unparseable_columns is not null then 'unparseable_value'
            when order_id is null then 'null_id'
            when customer_id is null then 'null_customer_id'
            when ordered_at is null then 'null_timestamp'
            when amount < 0 or discount_amount < 0 then 'negative_amount'
            when cast(ordered_at as date) > {{ max_valid_date() }} then 'future_timestamp'
            when coalesce(lower(status), '') not in ('completed', 'cancelled', 'returned') then 'invalid_status'
        end as _row_reason
    from typed
),

ranked as (
    select
        *,
        -- Conflicting copies of an order: the survivor is decided by what the order was when placed, never by
        -- its status, which can change later (a later cancellation must not swap the surviving amount).
        {{ duplicate_ranks('order_id', 'ordered_at, amount, discount_amount, customer_id') }}
    from row_checks
)

select
    ranked.order_id,
    ranked.customer_id,
    ranked.ordered_at,
    lower(ranked.status) as status,
    ranked.amount,
    coalesce(ranked.discount_amount, 0) as discount_amount,
    ranked.promised_delivery_at,
    ranked.delivered_at,
    ranked.cancelled_at,
    ranked.returned_at,
    coalesce(ranked.order_id, '_row:' || cast(ranked._row_hash as varchar)) as row_key,
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
