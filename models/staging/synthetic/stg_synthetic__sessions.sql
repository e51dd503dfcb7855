with

checked as (
    select * from {{ ref('base_synthetic__sessions') }}
)

select
    session_id,
    customer_id,
    started_at,
    device,
    is_login,
    page_views,
    cart_adds
from checked
where quarantine_reason is null
