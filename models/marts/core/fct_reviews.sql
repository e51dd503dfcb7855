with

reviews as (
    select * from {{ ref('int_reviews') }}
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
from reviews
