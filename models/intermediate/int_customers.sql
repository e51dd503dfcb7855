with

customers as (
    select * from {{ staging_relation('customers') }}
)

select
    customer_id,
    signup_at,
    country,
    acquisition_channel
from customers
