with

checked as (
    select * from {{ ref('base_synthetic__support_tickets') }}
)

select
    ticket_id,
    customer_id,
    order_id,
    created_at,
    channel,
    subject,
    body,
    language,
    is_text_truncated
from checked
where quarantine_reason is null
