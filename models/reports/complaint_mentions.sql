{{ config(materialized='ephemeral') }}
{#-
    One row per complaint mention: a (text, topic) pair from a negative review or any support ticket, with
    the customer and the time it was written. Topic 'other' is left out. Feeds the last complaint per
    customer (rpt_churn_risk), segment top topics (rpt_segment_summary) and topics over time.
-#}

with

reviews as (
    select
        review_id,
        customer_id,
        created_at
    from {{ ref('fct_reviews') }}
),

tickets as (
    select
        ticket_id,
        customer_id,
        created_at
    from {{ ref('fct_support_tickets') }}
),

review_tags as (
    select
        review_id,
        sentiment,
        sentiment_label,
        topics
    from {{ ref('review_tags') }}
),

ticket_tags as (
    select
        ticket_id,
        sentiment,
        sentiment_label,
        topics
    from {{ ref('ticket_tags') }}
),

review_mentions as (
    select
        'review' as source,
        reviews.review_id as source_id,
        reviews.customer_id,
        reviews.created_at,
        review_tags.sentiment,
        unnest(review_tags.topics) as topic
    from review_tags
    inner join reviews
        on review_tags.review_id = cast(reviews.review_id as varchar)
    where review_tags.sentiment_label = 'negative'
),

ticket_mentions as (
    select
        'ticket' as source,
        tickets.ticket_id as source_id,
        tickets.customer_id,
        tickets.created_at,
        ticket_tags.sentiment,
        unnest(ticket_tags.topics) as topic
    from ticket_tags
    inner join tickets
        on ticket_tags.ticket_id = cast(tickets.ticket_id as varchar)
),

mentions as (
    select * from review_mentions
    union all
    select * from ticket_mentions
)

select
    source,
    source_id,
    customer_id,
    created_at,
    sentiment,
    topic
from mentions
where topic is not null and topic <> 'other' and customer_id is not null
