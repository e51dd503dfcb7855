{#-
    One row per eligible customer per snapshot, with every registered feature (seeds/churn_features.csv),
    the label and the spine's split (int_snapshot_spine: test = the evaluation snapshot, train = horizons closed
    by it, score = the as_of snapshot, which has no label); other snapshots are left out.
    Point-in-time evidence: orders_max_event_at, sessions_max_event_at, voice_max_event_at and
    interventions_max_event_at are the latest events the order, visit, text and exposure features aggregated; feature_max_event_at is the greatest of them. Tests and the Python guard require
    them to be strictly before snapshot_date.
    Too short a history for the horizon (no evaluation snapshot, too few training snapshots) stops the build here,
    naming the minimum (macro require_history), instead of failing later in the model fit.
-#}
{{ config(post_hook="{{ require_history() }}") }}
{%- set lookback = var('lookback_days') %}
{%- set horizon = var('churn_horizon_days') %}

with

labels as (
    select * from {{ ref('churn_labels') }}
),

spine as (
    select * from {{ ref('int_snapshot_spine') }}
),

rfm as (
    select * from {{ ref('customer_rfm') }}
),

order_features as (
    select * from {{ ref('customer_order_features') }}
),

activity as (
    select * from {{ ref('customer_activity') }}
),

voice as (
    select * from {{ ref('customer_voice') }}
),

exposure as (
    select * from {{ ref('customer_intervention_exposure') }}
),

order_windows as (
    select
        customer_id,
        snapshot_date,
        last_order_at
    from {{ ref('int_customer_order_windows') }}
),

eligible as (
    select
        labels.customer_id,
        labels.snapshot_date,
        labels.horizon_end_date,
        spine.split,
        case when spine.split in ('train', 'test') then labels.churned end as churned
    from labels
    inner join spine on labels.snapshot_date = spine.snapshot_date
    where labels.is_eligible and spine.split is not null
),

joined as (
    select
        eligible.customer_id,
        eligible.snapshot_date,
        eligible.horizon_end_date,
        eligible.split,
        eligible.churned,
        rfm.tenure_days,
        rfm.recency_days,
        rfm.frequency,
        rfm.monetary,
        rfm.avg_order_value,
        rfm.rfm_score,
        order_features.lifetime_orders,
        order_features.days_since_first_order,
        order_features.mean_interorder_days,
        order_features.days_overdue,
        order_features.overdue_ratio,
        order_features.orders_30d,
        order_features.orders_90d,
        order_features.orders_prior_90d,
        order_features.order_trend_ratio,
        order_features.amount_90d,
        order_features.distinct_categories,
        order_features.distinct_products,
        order_features.late_delivery_share,
        order_features.cancellation_rate,
        order_features.return_rate,
        order_features.discount_order_share,
        order_features.discount_amount_share,
        activity.sessions_30d,
        activity.login_days_30d,
        activity.cart_adds_30d,
        activity.page_views_30d,
        activity.sessions_prior_60d,
        activity.cart_adds_prior_60d,
        activity.session_trend_ratio,
        activity.cart_add_trend_ratio,
        activity.sessions_without_order_30d,
        activity.days_since_last_visit,
        activity.coupon_redemptions_lookback,
        activity.coupon_use_rate,
        voice.reviews_90d,
        voice.reviews_lifetime,
        voice.tickets_90d,
        voice.tickets_lifetime,
        voice.mean_sentiment,
        voice.mean_sentiment_90d,
        voice.min_sentiment,
        voice.last_sentiment,
        voice.negative_share,
        voice.days_since_last_negative,
        voice.churn_intent_flag,
        voice.churn_intent_90d,
        voice.max_intensity_90d,
        voice.topic_delivery_count,
        voice.topic_product_quality_count,
        voice.topic_price_value_count,
        voice.topic_customer_service_count,
        voice.topic_returns_refunds_count,
        voice.topic_packaging_count,
        voice.topic_size_fit_count,
        voice.topic_website_app_count,
        voice.topic_payment_count,
        voice.topic_other_count,
        voice.voice_pc1,
        voice.voice_pc2,
        voice.voice_pc3,
        voice.voice_pc4,
        voice.voice_pc5,
        exposure.campaigns_targeted_before,
        exposure.interventions_received_before,
        exposure.days_since_last_intervention,
        rfm.monetary / {{ lookback }} * {{ horizon }} as spend_rate,
        order_windows.last_order_at as orders_max_event_at,
        {{ dbt.dateadd('day', '-activity.days_since_last_visit', 'eligible.snapshot_date') }}
            as sessions_max_event_at,
        voice.voice_max_event_at,
        exposure.last_intervention_at as interventions_max_event_at
    from eligible
    inner join rfm
        on eligible.customer_id = rfm.customer_id and eligible.snapshot_date = rfm.snapshot_date
    inner join order_windows
        on eligible.customer_id = order_windows.customer_id and eligible.snapshot_date = order_windows.snapshot_date
    left join order_features
        on eligible.customer_id = order_features.customer_id and eligible.snapshot_date = order_features.snapshot_date
    left join activity
        on eligible.customer_id = activity.customer_id and eligible.snapshot_date = activity.snapshot_date
    left join voice
        on eligible.customer_id = voice.customer_id and eligible.snapshot_date = voice.snapshot_date
    left join exposure
        on eligible.customer_id = exposure.customer_id and eligible.snapshot_date = exposure.snapshot_date
)

select
    *,
    greatest(orders_max_event_at, sessions_max_event_at, voice_max_event_at, interventions_max_event_at)
        as feature_max_event_at
from joined
