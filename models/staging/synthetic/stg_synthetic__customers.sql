with

checked as (
    select * from {{ ref('base_synthetic__customers') }}
)

select
    customer_id,
    signup_at,
    country,
    acquisition_channel,
    email_hash
from checked
where quarantine_reason is null
