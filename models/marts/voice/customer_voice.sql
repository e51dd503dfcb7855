{#-
    Customer voice: one row per customer per snapshot T (customers signed up before T), from reviews and support
    tickets created strictly before T (design section 6). Counts come from the text marts (every text counts,
    tagged or not); sentiment, intent and topics from review_tags / ticket_tags (tag_status = 'tagged').
    A complaint is a negative review or any support ticket (as in the reports). voice_max_event_at is the
    latest text used: tests require it to be before snapshot_date.
-#}
{{ snapshot_incremental('voice') }}
-- depends_on: {{ ref('topic_taxonomy') }}
-- depends_on: {{ ref('voice_snapshot_inputs') }}
{%- set window_days = var('voice_window_days', 90) %}
{%- set n_pcs = var('voice_pc_components', 5) %}

with

customers as (
    select
        customer_id,
        signup_at
    from {{ ref('dim_customers') }}
),

spine as (
    {{ pending_snapshots() }}
),

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
    select * from {{ ref('review_tags') }}
    where tag_status = 'tagged'
),

ticket_tags as (
    select * from {{ ref('ticket_tags') }}
    where tag_status = 'tagged'
),

embedding_pcs as (
    select * from {{ ref('customer_voice_embedding_pcs') }}
),

texts as (
    select
        'review' as source,
        reviews.customer_id,
        reviews.created_at,
        review_tags.sentiment,
        review_tags.sentiment_label,
        review_tags.topics,
        review_tags.churn_intent,
        review_tags.intensity,
        review_tags.sentiment_label = 'negative' as is_complaint
    from reviews
    left join review_tags on cast(reviews.review_id as varchar) = review_tags.review_id
    where reviews.customer_id is not null and reviews.created_at is not null
    union all
    select
        'ticket' as source,
        tickets.customer_id,
        tickets.created_at,
        ticket_tags.sentiment,
        ticket_tags.sentiment_label,
        ticket_tags.topics,
        ticket_tags.churn_intent,
        ticket_tags.intensity,
        true as is_complaint
    from tickets
    left join ticket_tags on cast(tickets.ticket_id as varchar) = ticket_tags.ticket_id
    where tickets.customer_id is not null and tickets.created_at is not null
),

customer_snapshots as (
    select
        customers.customer_id,
        spine.snapshot_date,
        spine.inputs_fingerprint
    from customers
    cross join spine
    where customers.signup_at < spine.snapshot_date
),

texts_before as (
    select
        customer_snapshots.customer_id,
        customer_snapshots.snapshot_date,
        texts.source,
        texts.created_at,
        texts.sentiment,
        texts.sentiment_label,
        texts.topics,
        texts.churn_intent,
        texts.intensity,
        texts.is_complaint,
        {{ dbt.datediff('texts.created_at', 'customer_snapshots.snapshot_date', 'day') }} as age_days,
        texts.created_at >= {{ dbt.dateadd('day', -window_days, 'customer_snapshots.snapshot_date') }} as in_window,
        row_number() over (
            partition by customer_snapshots.customer_id, customer_snapshots.snapshot_date, texts.sentiment is null
            order by texts.created_at desc, texts.source asc, texts.sentiment asc
        ) as recency_rank
    from customer_snapshots
    inner join texts
        on
            customer_snapshots.customer_id = texts.customer_id
            and customer_snapshots.snapshot_date > texts.created_at
),

aggregated as (
    select
        customer_id,
        snapshot_date,
        sum(case when source = 'review' and in_window then 1 else 0 end) as reviews_90d,
        sum(case when source = 'review' then 1 else 0 end) as reviews_lifetime,
        sum(case when source = 'ticket' and in_window then 1 else 0 end) as tickets_90d,
        sum(case when source = 'ticket' then 1 else 0 end) as tickets_lifetime,
        sum(case when sentiment is not null then 1 else 0 end) as tagged_texts,
        {{ exact_avg('sentiment') }} as mean_sentiment,
        {{ exact_avg('case when in_window then sentiment end') }} as mean_sentiment_90d,
        min(sentiment) as min_sentiment,
        max(case when sentiment is not null and recency_rank = 1 then sentiment end) as last_sentiment,
        {{ exact_avg("case when sentiment_label = 'negative' then 1.0 when sentiment_label is not null then 0.0 end") }}
            as negative_share,
        min(case when sentiment_label = 'negative' then age_days end) as days_since_last_negative,
        max(case when churn_intent then 1 else 0 end) as churn_intent_lifetime,
        max(case when churn_intent and in_window then 1 else 0 end) as churn_intent_90d,
        max(case when in_window then intensity end) as max_intensity_90d,
        {%- for topic in voice_topics() %}
            sum(case when is_complaint and {{ voice_has_topic('topics', topic) }} then 1 else 0 end)
                as topic_{{ topic }}_count,
        {%- endfor %}
        max(created_at) as voice_max_event_at
    from texts_before
    group by customer_id, snapshot_date
),

final as (
    select
        customer_snapshots.customer_id,
        customer_snapshots.snapshot_date,
        cast(coalesce(aggregated.reviews_90d, 0) as bigint) as reviews_90d,
        cast(coalesce(aggregated.reviews_lifetime, 0) as bigint) as reviews_lifetime,
        cast(coalesce(aggregated.tickets_90d, 0) as bigint) as tickets_90d,
        cast(coalesce(aggregated.tickets_lifetime, 0) as bigint) as tickets_lifetime,
        cast(coalesce(aggregated.tagged_texts, 0) as bigint) as tagged_texts,
        cast(aggregated.mean_sentiment as double) as mean_sentiment,
        cast(aggregated.mean_sentiment_90d as double) as mean_sentiment_90d,
        cast(aggregated.min_sentiment as double) as min_sentiment,
        cast(aggregated.last_sentiment as double) as last_sentiment,
        cast(aggregated.negative_share as double) as negative_share,
        cast(aggregated.days_since_last_negative as integer) as days_since_last_negative,
        coalesce(aggregated.churn_intent_lifetime, 0) = 1 as churn_intent_flag,
        coalesce(aggregated.churn_intent_90d, 0) = 1 as churn_intent_90d,
        cast(coalesce(aggregated.max_intensity_90d, 0) as double) as max_intensity_90d,
        {%- for topic in voice_topics() %}
            cast(coalesce(aggregated.topic_{{ topic }}_count, 0) as bigint) as topic_{{ topic }}_count,
        {%- endfor %}
        {%- for i in range(1, n_pcs + 1) %}
            cast(embedding_pcs.voice_pc{{ i }} as double) as voice_pc{{ i }},
        {%- endfor %}
        aggregated.voice_max_event_at,
        customer_snapshots.inputs_fingerprint
    from customer_snapshots
    left join aggregated
        on
            customer_snapshots.customer_id = aggregated.customer_id
            and customer_snapshots.snapshot_date = aggregated.snapshot_date
    left join embedding_pcs
        on
            customer_snapshots.customer_id = embedding_pcs.customer_id
            and customer_snapshots.snapshot_date = embedding_pcs.snapshot_date
)

select * from final
