-- One row per invoice with at least one valid line: amount = sum(quantity * unit_price) of its valid lines.
-- A table, not a view: int_orders is a view over it, read by every order mart.
{{ config(materialized='table') }}
with

lines as (
    select * from {{ ref('base_online_retail__lines') }}
    where quarantine_reason is null
)

select
    invoice_no as order_id,
    min(customer_id) as customer_id,
    min(invoiced_at) as ordered_at,
    'completed' as status,
    {{ exact_sum('quantity * unit_price') }} as amount,
    cast(0 as {{ type_double() }}) as discount_amount,
    cast(null as timestamp) as promised_delivery_at,
    cast(null as timestamp) as delivered_at,
    cast(null as timestamp) as cancelled_at,
    cast(null as timestamp) as returned_at
from lines
group by invoice_no
