-- One row per customer per snapshot date T for customers who signed up before T (the behaviour marts' grain).
with

customers as (
    select * from {{ ref('int_customers') }}
),

spine as (
    select * from {{ ref('int_snapshot_spine') }}
)

select
    customers.customer_id,
    spine.snapshot_date,
    spine.horizon_end_date,
    spine.horizon_observed,
    spine.is_as_of,
    customers.signup_at,
    {{ dbt.datediff('customers.signup_at', 'spine.snapshot_date', 'day') }} as tenure_days
from customers
inner join spine on customers.signup_at < spine.snapshot_date
