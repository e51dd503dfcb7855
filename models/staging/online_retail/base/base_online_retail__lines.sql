{{ config(materialized='table', post_hook="{{ require_rows('online_retail', 'transactions') }}") }}

with

source as (
    select * from {{ source_or_empty('online_retail', 'transactions') }}
),

typed as (
    select {{ typed_source_columns('online_retail', 'transactions', 'source') }}
    from source
),

numbered as (
    select
        invoice_no,
        stock_code,
        {{ redact_text('description') }} as description,  -- free text: no PII passes
        quantity,
        invoiced_at,
        unit_price,
        customer_id,
        country,
        _unparseable_columns,
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
    coalesce(invoice_no, '_no_invoice') || '-' || cast(line_number as {{ dbt.type_string() }}) as row_key,
    _unparseable_columns as quarantine_detail,
    case
        when
            _unparseable_columns is not null
            or invoice_no is null or invoiced_at is null or quantity is null or unit_price is null
            then 'unparseable_value'
        when customer_id is null then 'null_customer_id'
        when invoice_no like 'C%' then 'cancellation'
        when quantity <= 0 then 'non_positive_quantity'
        when unit_price <= 0 then 'non_positive_price'
        when cast(invoiced_at as date) > {{ max_valid_date() }} then 'future_timestamp'
    end as quarantine_reason
from numbered
