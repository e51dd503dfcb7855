{#-
    Customer voice: one row per customer per snapshot T (customers signed up before T), from reviews and support
    tickets created strictly before T (design section 6). Counts come from the text marts (every text counts,
    tagged or not); sentiment, intent and topics from review_tags / ticket_tags (tag_status = 'tagged').
    A complaint is a negative review or any support ticket (as in the reports). voice_max_event_at is the
    latest text used: tests require it to be before snapshot_date.
-#}
{{ snapshot_incremental('voice', bucket_on='customer_id') }}
-- depends_on: {{ ref('topic_taxonomy') }}
-- depends_on: {{ ref('int_customer_snapshots') }} (counted to choose its customer buckets)
{%- set window_days = var('voice_window_days', 90) %}
{%- set n_pcs = var('voice_pc_components', 5) %}

with

customers as (
    select
        customer_id,
        signup_at
    from {{ ref('dim_customers') }}
    where {{ in_customer_bucket('customer_id') }}
),

spine as (
    {{ pending_snapshots('voice') }}
),

embedding_pcs as (
    select * from {{ python_step('marts', 'customer_voice_embedding_pcs') }}
    where {{ in_customer_bucket('customer_id') }}
),

texts as (
    -- every review and ticket of the bucket with its tags when tagged; is_complaint: the one rule of what a
    -- complaint is
    {{ customer_texts(in_bucket=true) }}
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

pending_customers as (
    select distinct customer_id from customer_snapshots
),

pending_texts as (
    -- texts of customers with a snapshot to compute (none on a rebuild without new data)
    select texts.*
    from texts
    inner join pending_customers on texts.customer_id = pending_customers.customer_id
),

first_texts as (
    select
        customer_id,
        min(created_at) as first_text_at
    from pending_texts
    group by customer_id
),

pending_count as (
    -- one pending snapshot (a nightly build's new as-of date) takes the lifetime features as plain aggregates
    -- (one_snapshot_lifetime); several (a full build) take one sorted pass per customer (timeline, lifetime)
    select count(*) as n_snapshots from spine
),

probes as (
    -- a snapshot with no text before it has no lifetime voice (zeros and nulls in final): it is not probed, so
    -- the sorted pass holds the customers' texts and their later snapshots only, not every customer snapshot
    select
        customer_snapshots.customer_id,
        customer_snapshots.snapshot_date
    from customer_snapshots
    inner join first_texts on customer_snapshots.customer_id = first_texts.customer_id
    where
        first_texts.first_text_at < customer_snapshots.snapshot_date
        and (select pending_count.n_snapshots from pending_count) > 1
),

timeline as (
    -- Lifetime features: one sorted pass per customer over their texts and the pending snapshot probes, with
    -- running aggregates (no texts x snapshots join). At one instant a probe sorts before the texts, so it sees
    -- only texts strictly before T; texts at one instant sort so that the last tagged one is the review first,
    -- then the lowest sentiment (the order the 90-day and lifetime 'last' used before).
    select
        customer_id,
        created_at as event_at,
        1 as sort_kind,
        source,
        sentiment,
        sentiment_label,
        topics,
        churn_intent,
        is_complaint
    from pending_texts
    where (select pending_count.n_snapshots from pending_count) > 1
    union all
    select
        customer_id,
        cast(snapshot_date as timestamp) as event_at,
        0 as sort_kind,
        null as source,
        null as sentiment,
        null as sentiment_label,
        null as topics,
        null as churn_intent,
        null as is_complaint
    from probes
),

lifetime as (
    select
        customer_id,
        cast(event_at as date) as snapshot_date,
        sort_kind,
        count(case when source = 'review' then 1 end) over customer_timeline as reviews_lifetime,
        count(case when source = 'ticket' then 1 end) over customer_timeline as tickets_lifetime,
        count(sentiment) over customer_timeline as tagged_texts,
        {{ exact_avg('sentiment', over='customer_timeline') }} as mean_sentiment,
        min(sentiment) over customer_timeline as min_sentiment,
        {{ last_non_null('sentiment', 'customer_timeline') }} as last_sentiment,
        {{ exact_avg(
            "case when sentiment_label = 'negative' then 1.0 when sentiment_label is not null then 0.0 end",
            over='customer_timeline',
        ) }} as negative_share,
        {{ ascending_extreme('max', "case when sentiment_label = 'negative' then event_at end") }}
            over customer_timeline as last_negative_at,
        max(case when churn_intent then 1 else 0 end) over customer_timeline as churn_intent_lifetime,
        {%- for topic in voice_topics() %}
            count(case when is_complaint and {{ voice_has_topic('topics', topic) }} then 1 end)
                over customer_timeline as topic_{{ topic }}_count,
        {%- endfor %}
        {{ ascending_extreme('max', 'case when sort_kind = 1 then event_at end') }} over customer_timeline
            as voice_max_event_at
    from timeline
    window customer_timeline as (
        partition by customer_id
        order by event_at asc, sort_kind asc, source desc, sentiment desc
        rows between unbounded preceding and current row
    )
),

one_snapshot_lifetime as (
    -- the columns of lifetime's probe rows, as aggregates of each customer's texts before the one pending T
    -- (last_sentiment: the last tagged text in lifetime's order)
    select
        customer_snapshots.customer_id,
        customer_snapshots.snapshot_date,
        0 as sort_kind,
        count(case when texts.source = 'review' then 1 end) as reviews_lifetime,
        count(case when texts.source = 'ticket' then 1 end) as tickets_lifetime,
        count(texts.sentiment) as tagged_texts,
        {{ exact_avg('texts.sentiment') }} as mean_sentiment,
        min(texts.sentiment) as min_sentiment,
        {{ last_by('texts.sentiment', [
            'texts.created_at', "case when texts.source = 'review' then 1 else 0 end", '-texts.sentiment',
        ]) }} as last_sentiment,
        {{ exact_avg(
            "case when texts.sentiment_label = 'negative' then 1.0 when texts.sentiment_label is not null then 0.0 end"
        ) }} as negative_share,
        max(case when texts.sentiment_label = 'negative' then texts.created_at end) as last_negative_at,
        max(case when texts.churn_intent then 1 else 0 end) as churn_intent_lifetime,
        {%- for topic in voice_topics() %}
            count(case when texts.is_complaint and {{ voice_has_topic('texts.topics', topic) }} then 1 end)
                as topic_{{ topic }}_count,
        {%- endfor %}
        max(texts.created_at) as voice_max_event_at
    from customer_snapshots
    inner join pending_texts as texts
        on
            customer_snapshots.customer_id = texts.customer_id
            and texts.created_at < cast(customer_snapshots.snapshot_date as timestamp)
    where (select pending_count.n_snapshots from pending_count) = 1
    group by customer_snapshots.customer_id, customer_snapshots.snapshot_date
),

lifetime_at_snapshots as (
    select * from lifetime
    where sort_kind = 0
    union all
    select * from one_snapshot_lifetime
),

recent as (
    -- 90-day features: each text joins only the snapshots whose window holds it (a bounded range join).
    select
        customer_snapshots.customer_id,
        customer_snapshots.snapshot_date,
        count(case when texts.source = 'review' then 1 end) as reviews_90d,
        count(case when texts.source = 'ticket' then 1 end) as tickets_90d,
        {{ exact_avg('texts.sentiment') }} as mean_sentiment_90d,
        max(case when texts.churn_intent then 1 else 0 end) as churn_intent_90d,
        max(texts.intensity) as max_intensity_90d
    from customer_snapshots
    inner join pending_texts as texts
        on
            customer_snapshots.customer_id = texts.customer_id
            and customer_snapshots.snapshot_date > texts.created_at
            and texts.created_at >= {{ dbt.dateadd('day', -window_days, 'customer_snapshots.snapshot_date') }}
    group by customer_snapshots.customer_id, customer_snapshots.snapshot_date
),

aggregated as (
    select
        lifetime.customer_id,
        lifetime.snapshot_date,
        recent.reviews_90d,
        lifetime.reviews_lifetime,
        recent.tickets_90d,
        lifetime.tickets_lifetime,
        lifetime.tagged_texts,
        lifetime.mean_sentiment,
        recent.mean_sentiment_90d,
        lifetime.min_sentiment,
        lifetime.last_sentiment,
        lifetime.negative_share,
        {{ dbt.datediff('lifetime.last_negative_at', 'lifetime.snapshot_date', 'day') }} as days_since_last_negative,
        lifetime.churn_intent_lifetime,
        recent.churn_intent_90d,
        recent.max_intensity_90d,
        {%- for topic in voice_topics() %}
            lifetime.topic_{{ topic }}_count,
        {%- endfor %}
        lifetime.voice_max_event_at
    from lifetime_at_snapshots as lifetime
    left join recent
        on {{ same_customer_snapshot('lifetime', 'recent') }}
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
        cast(aggregated.mean_sentiment as {{ type_double() }}) as mean_sentiment,
        cast(aggregated.mean_sentiment_90d as {{ type_double() }}) as mean_sentiment_90d,
        cast(aggregated.min_sentiment as {{ type_double() }}) as min_sentiment,
        cast(aggregated.last_sentiment as {{ type_double() }}) as last_sentiment,
        cast(aggregated.negative_share as {{ type_double() }}) as negative_share,
        cast(aggregated.days_since_last_negative as integer) as days_since_last_negative,
        coalesce(aggregated.churn_intent_lifetime, 0) = 1 as churn_intent_flag,
        coalesce(aggregated.churn_intent_90d, 0) = 1 as churn_intent_90d,
        cast(coalesce(aggregated.max_intensity_90d, 0) as {{ type_double() }}) as max_intensity_90d,
        {%- for topic in voice_topics() %}
            cast(coalesce(aggregated.topic_{{ topic }}_count, 0) as bigint) as topic_{{ topic }}_count,
        {%- endfor %}
        {%- for i in range(1, n_pcs + 1) %}
            cast(embedding_pcs.voice_pc{{ i }} as {{ type_double() }}) as voice_pc{{ i }},
        {%- endfor %}
        aggregated.voice_max_event_at,
        customer_snapshots.inputs_fingerprint
    from customer_snapshots
    left join aggregated
        on {{ same_customer_snapshot('customer_snapshots', 'aggregated') }}
    left join embedding_pcs
        on {{ same_customer_snapshot('customer_snapshots', 'embedding_pcs') }}
)

select * from final
