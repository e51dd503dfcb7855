with

checked as (
    select * from {{ ref('base_synthetic__reviews') }}
)

select
    review_id,
    customer_id,
    order_id,
    created_at,
    rating,
    title,
    body,
    language,
    is_text_truncated
from checked
where quarantine_reason is null
