-- One row per valid invoice line (customer known, not a cancellation, quantity and price > 0).
with

lines as (
    select * from {{ ref('base_online_retail__lines') }}
)

select
    row_key as order_item_id,
    invoice_no as order_id,
    stock_code as product_id,
    cast(null as {{ dbt.type_string() }}) as category,
    quantity,
    unit_price
from lines
where quarantine_reason is null
