with

tickets as (
    select * from {{ ref('int_support_tickets') }}
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
from tickets
