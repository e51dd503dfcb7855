{{ config(materialized='table') }}

-- Invoice lines left out of orders, with the reason (cancellation, null_customer_id, non-positive quantity/price).
select
    'transactions' as source_table,
    row_key,
    quarantine_reason as reason,
    quarantine_detail as detail
from {{ ref('base_online_retail__lines') }}
where quarantine_reason is not null
