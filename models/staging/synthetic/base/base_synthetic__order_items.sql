{{ config(materialized='table') }}

with

source as (
    select * from {{ source_or_empty('synthetic', 'order_items') }}
),

orders as (
    select order_id from {{ ref('stg_synthetic__orders') }}
),

typed as (
    select
        {{ typed_source_columns('synthetic', 'order_items', 'source') }},
        {{ row_hash('source') }} as _row_hash
    from source
),

row_checks as (
    select
        *,
        case
            when _unparseable_columns is not null then 'unparseable_value'
            when order_item_id is null or order_id is null then 'null_id'
            when unit_price < 0 then 'negative_amount'
            when quantity <= 0 then 'non_positive_quantity'
        end as _row_reason
    from typed
),

ranked as (
    select
        *,
        {{ duplicate_ranks('order_item_id', 'order_id') }}
    from row_checks
)

select
    ranked.order_item_id,
    ranked.order_id,
    ranked.product_id,
    lower(ranked.category) as category,
    ranked.quantity,
    ranked.unit_price,
    coalesce(ranked.order_item_id, '_row:' || cast(ranked._row_hash as varchar)) as row_key,
    ranked._unparseable_columns as quarantine_detail,
    coalesce(
        ranked._row_reason,
        case
            when ranked._copy_number > 1 then 'duplicate_row'
            when ranked._id_rank > 1 then 'duplicate_id'
            when orders.order_id is null then 'orphan_order'
        end
    ) as quarantine_reason
from ranked
left join orders on ranked.order_id = orders.order_id
