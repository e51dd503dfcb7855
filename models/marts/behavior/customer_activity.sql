{#-
    Visit and coupon behaviour at each snapshot T, from events strictly before T.
    Sessions join the spine only within [T - 90 days, T) (bounded range join); the last visit before T (unbounded)
    comes from a running max per customer where snapshot probe rows sort before events at the same instant.
    A session "converts" when the customer placed an order within 24 hours after it and before T (placed, whatever
    its later status: a cancellation after T must not change T's features); the first
    order at/after each session comes from one sorted pass per customer (no session x order join).
    Trend ratios are add-one smoothed: (last 30 days + 1) / (previous 60 days / 2 + 1); 1 means steady.
-#}
{{ config(
    materialized='incremental', incremental_strategy='delete+insert', unique_key='snapshot_date',
    on_schema_change='append_new_columns', post_hook="{{ drop_stale_snapshots('behaviour') }}",
) }}
{%- set lookback = var('lookback_days') %}

with

customer_snapshots as (
    {{ pending_customer_snapshots('behaviour') }}
),

pending as (
    {{ pending_snapshots('behaviour') }}
),

spine as (
    select
        snapshot_date,
        {{ dbt.dateadd('day', -lookback, 'snapshot_date') }} as lookback_start_at,
        {{ dbt.dateadd('day', -30, 'snapshot_date') }} as start_30d_at,
        {{ dbt.dateadd('day', -90, 'snapshot_date') }} as start_90d_at
    from pending
),

source_sessions as (
    select * from {{ ref('int_sessions') }}
),

placed_orders as (
    select
        customer_id,
        ordered_at
    from {{ ref('int_orders') }}
),

session_order_timeline as (
    select
        customer_id,
        session_id,
        started_at as event_at,
        0 as sort_kind,
        cast(null as timestamp) as order_at
    from source_sessions
    union all
    select
        customer_id,
        cast(null as varchar) as session_id,
        ordered_at as event_at,
        1 as sort_kind,
        ordered_at as order_at
    from placed_orders
),

next_orders as (
    -- First placed order at or after each session start (orders sort after sessions at the same instant).
    select
        session_id,
        min(order_at) over (
            partition by customer_id order by event_at, sort_kind rows between current row and unbounded following
        ) as next_order_at
    from session_order_timeline
),

sessions as (
    -- Flags a customer's first logged-in session of each day, so login days are a sum (no count distinct):
    -- snapshot windows start at midnight, so a day is either wholly inside a window or outside it.
    select
        source_sessions.*,
        next_orders.next_order_at,
        case
            when
                source_sessions.is_login
                and row_number() over (
                    partition by
                        source_sessions.customer_id, cast(source_sessions.started_at as date), source_sessions.is_login
                    order by source_sessions.started_at, source_sessions.session_id
                ) = 1
                then 1
            else 0
        end as is_first_login_of_day
    from source_sessions
    left join next_orders on source_sessions.session_id = next_orders.session_id
),

recent_sessions as (
    select
        sessions.session_id,
        sessions.customer_id,
        spine.snapshot_date,
        sessions.started_at,
        sessions.is_first_login_of_day,
        sessions.cart_adds,
        sessions.page_views,
        sessions.started_at >= spine.start_30d_at as in_30d,
        coalesce(
            sessions.next_order_at < {{ dbt.dateadd('day', 1, 'sessions.started_at') }}
            and sessions.next_order_at < spine.snapshot_date,
            false
        ) as is_converted
    from sessions
    inner join spine
        on
            sessions.started_at < spine.snapshot_date
            and sessions.started_at >= spine.start_90d_at
),

session_windows as (
    select
        recent_sessions.customer_id,
        recent_sessions.snapshot_date,
        count(case when recent_sessions.in_30d then 1 end) as sessions_30d,
        count(case when not recent_sessions.in_30d then 1 end) as sessions_prior_60d,
        cast(coalesce(sum(case when recent_sessions.in_30d then recent_sessions.is_first_login_of_day end), 0) as bigint)
            as login_days_30d,
        cast(coalesce(sum(case when recent_sessions.in_30d then recent_sessions.cart_adds end), 0) as bigint)
            as cart_adds_30d,
        cast(coalesce(sum(case when not recent_sessions.in_30d then recent_sessions.cart_adds end), 0) as bigint)
            as cart_adds_prior_60d,
        cast(coalesce(sum(case when recent_sessions.in_30d then recent_sessions.page_views end), 0) as bigint)
            as page_views_30d,
        count(case when recent_sessions.in_30d and not recent_sessions.is_converted then 1 end)
            as sessions_without_order_30d
    from recent_sessions
    group by recent_sessions.customer_id, recent_sessions.snapshot_date
),

visit_timeline as (
    select
        customer_id,
        started_at as event_at,
        1 as sort_kind
    from source_sessions
    union all
    select
        customer_id,
        cast(snapshot_date as timestamp) as event_at,
        0 as sort_kind
    from customer_snapshots
),

last_visits as (
    select
        customer_id,
        cast(event_at as date) as snapshot_date,
        last_visit_at
    from (
        select
            customer_id,
            event_at,
            sort_kind,
            max(case when sort_kind = 1 then event_at end) over (
                partition by customer_id order by event_at, sort_kind rows between unbounded preceding and current row
            ) as last_visit_at
        from visit_timeline
    ) as running
    where sort_kind = 0
),

coupon_windows as (
    select
        coupons.customer_id,
        spine.snapshot_date,
        count(*) as coupon_redemptions_lookback
    from {{ ref('int_coupon_redemptions') }} as coupons
    inner join spine
        on
            coupons.redeemed_at < spine.snapshot_date
            and coupons.redeemed_at >= spine.lookback_start_at
    group by coupons.customer_id, spine.snapshot_date
),

order_windows as (
    select
        customer_id,
        snapshot_date,
        orders_lookback,
        orders_30d
    from {{ ref('int_customer_order_windows') }}
)

select
    customer_snapshots.customer_id,
    customer_snapshots.snapshot_date,
    coalesce(session_windows.sessions_30d, 0) as sessions_30d,
    coalesce(session_windows.login_days_30d, 0) as login_days_30d,
    coalesce(session_windows.cart_adds_30d, 0) as cart_adds_30d,
    coalesce(session_windows.page_views_30d, 0) as page_views_30d,
    coalesce(session_windows.sessions_prior_60d, 0) as sessions_prior_60d,
    coalesce(session_windows.cart_adds_prior_60d, 0) as cart_adds_prior_60d,
    (coalesce(session_windows.sessions_30d, 0) + 1.0)
    / (coalesce(session_windows.sessions_prior_60d, 0) / 2.0 + 1.0) as session_trend_ratio,
    (coalesce(session_windows.cart_adds_30d, 0) + 1.0)
    / (coalesce(session_windows.cart_adds_prior_60d, 0) / 2.0 + 1.0) as cart_add_trend_ratio,
    coalesce(session_windows.sessions_without_order_30d, 0) as sessions_without_order_30d,
    {{ dbt.datediff('last_visits.last_visit_at', 'customer_snapshots.snapshot_date', 'day') }}
        as days_since_last_visit,
    coalesce(coupon_windows.coupon_redemptions_lookback, 0) as coupon_redemptions_lookback,
    coalesce(coupon_windows.coupon_redemptions_lookback, 0)
    / nullif(order_windows.orders_lookback, 0) as coupon_use_rate,
    customer_snapshots.inputs_fingerprint
from customer_snapshots
left join session_windows
    on
        customer_snapshots.customer_id = session_windows.customer_id
        and customer_snapshots.snapshot_date = session_windows.snapshot_date
left join last_visits
    on
        customer_snapshots.customer_id = last_visits.customer_id
        and customer_snapshots.snapshot_date = last_visits.snapshot_date
left join coupon_windows
    on
        customer_snapshots.customer_id = coupon_windows.customer_id
        and customer_snapshots.snapshot_date = coupon_windows.snapshot_date
left join order_windows
    on
        customer_snapshots.customer_id = order_windows.customer_id
        and customer_snapshots.snapshot_date = order_windows.snapshot_date
