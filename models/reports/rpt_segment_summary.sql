{#-
    One row per segment of each segmentation (rfm = K-Means on standardised RFM; fused = RFM + activity +
    voice + embedding components) at the as-of date: size, revenue share, mean RFM, activity and sentiment,
    complaint rate and top complaint topics (last lookback_days before the as-of date), churn risk, and the
    churn rate the same customers showed at the latest snapshot whose horizon is fully observed.
-#}
{%- set lookback = var('lookback_days', 365) -%}

with

segments as (
    select * from {{ python_step('ml', 'customer_segments') }}
),

-- the as-of snapshot of each mart only: unfiltered, the planner read all 16M rows of customer_voice (24
-- snapshots, 1M customers) into its join; filtered, the query took 6.1-6.3 s instead of 8.0-9.3 s, with the
-- same rows (sums of doubles differ in the last bits, as they do between two runs of either query)
rfm as (
    select * from {{ ref('customer_rfm') }}
    where snapshot_date in (select segments.snapshot_date from segments)
),

activity as (
    select * from {{ ref('customer_activity') }}
    where snapshot_date in (select segments.snapshot_date from segments)
),

voice as (
    select * from {{ ref('customer_voice') }}
    where snapshot_date in (select segments.snapshot_date from segments)
),

scores as (
    select * from {{ python_step('ml', 'churn_scores') }}
),

complaints as (
    select * from {{ ref('complaint_mentions') }}
),

last_observed_labels as (
    -- read on their own (not a CTE shared with last_observed, which the engine would materialize whole)
    select
        customer_id,
        churned
    from {{ ref('churn_labels') }}
    where
        is_eligible
        and snapshot_date = (
            select max(observed.snapshot_date) from {{ ref('churn_labels') }} as observed
            where observed.horizon_observed
        )
),

members as (
    select
        'rfm' as segmentation,
        customer_id,
        snapshot_date,
        rfm_segment_id as segment_id,
        rfm_segment_name as segment_name,
        rfm_segment_persona as segment_persona,
        rfm_k as k,
        rfm_silhouette as silhouette
    from segments
    union all
    select
        'fused' as segmentation,
        customer_id,
        snapshot_date,
        fused_segment_id as segment_id,
        fused_segment_name as segment_name,
        fused_segment_persona as segment_persona,
        fused_k as k,
        fused_silhouette as silhouette
    from segments
    where fused_segment_id is not null  -- left out when it would equal the RFM segmentation
),

as_of_facts as (
    -- each segmented customer's facts, joined once for both segmentations
    select
        segments.customer_id,
        segments.snapshot_date,
        rfm.recency_days,
        rfm.frequency,
        rfm.monetary,
        activity.sessions_30d,
        voice.mean_sentiment as sentiment,
        scores.churn_probability,
        scores.risk_tier,
        scores.revenue_at_risk,
        last_observed_labels.churned as churned_last_observed
    from segments
    left join rfm
        on segments.customer_id = rfm.customer_id and segments.snapshot_date = rfm.snapshot_date
    left join activity
        on segments.customer_id = activity.customer_id and segments.snapshot_date = activity.snapshot_date
    left join voice
        on segments.customer_id = voice.customer_id and segments.snapshot_date = voice.snapshot_date
    left join scores
        on segments.customer_id = scores.customer_id
    left join last_observed_labels
        on segments.customer_id = last_observed_labels.customer_id
),

customer_facts as (
    select
        members.*,
        as_of_facts.recency_days,
        as_of_facts.frequency,
        as_of_facts.monetary,
        as_of_facts.sessions_30d,
        as_of_facts.sentiment,
        as_of_facts.churn_probability,
        as_of_facts.risk_tier,
        as_of_facts.revenue_at_risk,
        as_of_facts.churned_last_observed
    from members
    left join as_of_facts
        on members.customer_id = as_of_facts.customer_id and members.snapshot_date = as_of_facts.snapshot_date
),

customer_complaints as (
    select distinct
        members.segmentation,
        members.segment_id,
        members.customer_id,
        complaints.topic
    from members
    inner join complaints
        on
            members.customer_id = complaints.customer_id
            and members.snapshot_date > complaints.created_at
            and {{ dbt.dateadd('day', -lookback, 'members.snapshot_date') }} <= complaints.created_at
),

segment_sizes as (
    select
        segmentation,
        segment_id,
        count(*) as customers
    from members
    group by segmentation, segment_id
),

topic_counts as (
    select
        customer_complaints.segmentation,
        customer_complaints.segment_id,
        customer_complaints.topic,
        count(*) as customers_with_topic,
        {{ ratio('count(*)', 'min(segment_sizes.customers)') }} as topic_rate
    from customer_complaints
    inner join segment_sizes
        on
            customer_complaints.segmentation = segment_sizes.segmentation
            and customer_complaints.segment_id = segment_sizes.segment_id
    group by customer_complaints.segmentation, customer_complaints.segment_id, customer_complaints.topic
),

topic_lift as (
    select
        *,
        {{ ratio('topic_rate', ratio(
            'sum(customers_with_topic) over (partition by segmentation, topic)',
            '(select count(distinct members.customer_id) from members)',
        )) }} as lift
    from topic_counts
),

ranked_topics as (
    select
        *,
        row_number() over (
            partition by segmentation, segment_id order by lift desc, customers_with_topic desc, topic asc
        ) as topic_rank
    from topic_lift
    where customers_with_topic >= 5
),

top_topics as (
    select
        segmentation,
        segment_id,
        {{ ordered_listagg('topic', "', '", 'topic_rank') }} as top_topics
    from ranked_topics
    where topic_rank <= 3
    group by segmentation, segment_id
),

complainers as (
    select
        segmentation,
        segment_id,
        count(distinct customer_id) as customers_with_complaint
    from customer_complaints
    group by segmentation, segment_id
),

profile as (
    select
        segmentation,
        segment_id,
        min(segment_name) as segment_name,
        min(segment_persona) as segment_persona,
        min(k) as k,
        min(silhouette) as silhouette,
        count(*) as customers,
        sum(monetary) as revenue,
        avg(recency_days) as mean_recency_days,
        avg(frequency) as mean_frequency,
        avg(monetary) as mean_monetary,
        avg(sessions_30d) as mean_sessions_30d,
        avg(sentiment) as mean_sentiment,
        avg(churn_probability) as mean_churn_probability,
        sum(case when risk_tier = 'high' then 1 else 0 end) as high_risk_customers,
        sum(revenue_at_risk) as revenue_at_risk,
        avg(cast(case when churned_last_observed then 1 when not churned_last_observed then 0 end as {{ type_double() }}))
            as churn_rate,
        count(churned_last_observed) as churn_rate_n
    from customer_facts
    group by segmentation, segment_id
)

select
    cast(profile.segmentation as {{ dbt.type_string() }}) as segmentation,
    cast(profile.segment_id as integer) as segment_id,
    cast(profile.segment_name as {{ dbt.type_string() }}) as segment_name,
    cast(profile.segment_persona as {{ dbt.type_string() }}) as segment_persona,
    cast(profile.k as integer) as k,
    cast(profile.silhouette as {{ type_double() }}) as silhouette,
    cast(profile.customers as integer) as customers,
    {{ ratio('profile.customers', 'sum(profile.customers) over (partition by profile.segmentation)') }}
        as customer_share,
    cast(profile.revenue as {{ type_double() }}) as revenue,
    cast(profile.revenue / nullif(sum(profile.revenue) over (partition by profile.segmentation), 0) as {{ type_double() }})
        as revenue_share,
    cast(profile.mean_recency_days as {{ type_double() }}) as mean_recency_days,
    cast(profile.mean_frequency as {{ type_double() }}) as mean_frequency,
    cast(profile.mean_monetary as {{ type_double() }}) as mean_monetary,
    cast(profile.mean_sessions_30d as {{ type_double() }}) as mean_sessions_30d,
    cast(profile.mean_sentiment as {{ type_double() }}) as mean_sentiment,
    {{ ratio('coalesce(complainers.customers_with_complaint, 0)', 'profile.customers') }} as complaint_rate,
    cast(top_topics.top_topics as {{ dbt.type_string() }}) as top_topics,
    cast(profile.mean_churn_probability as {{ type_double() }}) as mean_churn_probability,
    cast(profile.high_risk_customers as integer) as high_risk_customers,
    cast(profile.revenue_at_risk as {{ type_double() }}) as revenue_at_risk,
    cast(profile.churn_rate as {{ type_double() }}) as churn_rate,
    cast(profile.churn_rate_n as integer) as churn_rate_n
from profile
left join complainers
    on profile.segmentation = complainers.segmentation and profile.segment_id = complainers.segment_id
left join top_topics
    on profile.segmentation = top_topics.segmentation and profile.segment_id = top_topics.segment_id
