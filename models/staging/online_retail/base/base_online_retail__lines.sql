{{ config(materialized='table', post_hook="{{ require_rows('online_retail', 'transactions') }}") }}

with

source as (
    select * from {{ source_or_empty('online_retail', 'transactions') }}
),

typed as (
    select
        nullif(trim(cast(invoiceno as varchar)), '') as invoice_no,
        nullif(trim(cast(stockcode as varchar)), '') as stock_code,
        {{ redact_text("nullif(trim(cast(description as varchar)), '')") }} as description,  -- free text: no PII passes
        {{ try_cast_sql('quantity', 'integer') }} as quantity,
        {{ try_cast_sql('invoicedate', 'timestamp') }} as invoiced_at,
        {{ try_cast_sql('unitprice', 'double') }} as unit_price,
        cast({{ try_cast_sql('customerid', 'bigint') }} as varchar) as customer_id,
        nullif(trim(cast(country as varchar)), '') as country
    from source
),

numbered as (
    select
        *,
        row_number() over (
            partition by invoice_no order by stock_code, quantity, unit_price, description
        ) as line_number
    from typed
)

select
    invoice_no,
    stock_code,
    description,
    quantity,
    invoiced_at,
    unit_price,
    customer_id,
    country,
    coalesce(invoice_no, '_no_invoice') || '-' || cast(line_number as varchar) as row_key,
    case
        when invoice_no is null or invoiced_at is null or quantity is null or unit_price is null
            then 'unparseable_value'
        when customer_id is null then 'null_customer_id'
        when invoice_no like 'C%' then 'cancellation'
        when quantity <= 0 then 'non_positive_quantity'
        when unit_price <= 0 then 'non_positive_price'
        when cast(invoiced_at as date) > {{ max_valid_date() }} then 'future_timestamp'
    end as quarantine_reason
from numbered
