with

checked as (
    select * from {{ ref('base_synthetic__order_items') }}
)

select
    order_item_id,
    order_id,
    product_id,
    category,
    quantity,
    unit_price
from checked
where quarantine_reason is null
