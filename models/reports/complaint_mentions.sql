{{ config(materialized='ephemeral') }}
{#-
    One row per complaint mention: a (text, topic) pair from a complaint (macros/customer_texts.sql: a negative
    review or any support ticket), with the customer and the time it was written. Topic 'other' is left out.
    Feeds the last complaint per customer (rpt_churn_risk), segment top topics (rpt_segment_summary) and topics
    over time.
-#}

with

texts as (
    {{ customer_texts() }}
),

mentions as (
    select
        source,
        source_id,
        customer_id,
        created_at,
        sentiment,
        {{ list_elements('topics') }} as topic
    from texts
    where is_complaint
)

select * from mentions
where topic is not null and topic <> 'other'
