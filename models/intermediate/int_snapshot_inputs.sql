{#-
    What each snapshot's rows were computed from, so incremental snapshot marts recompute exactly the snapshots
    whose inputs changed (macros/incremental_by_snapshot.sql). Every fact of the intermediate tables is dated by
    the day it became known (an order when placed; its cancellation, return and delivery on their own days, never
    before the order; an order line with its order; a customer at signup), hashed, and summed per day. A snapshot T's fingerprint
    covers the facts known before T: a late-arriving or corrected row dated before T changes it, a row after T
    does not. A label at T whose horizon is observed also reads orders up to the horizon end, so its fingerprint
    adds the order facts before horizon_end_date; one whose horizon is open reads only facts before T (churn_labels
    leaves orders_in_horizon and churned null), so a day's new orders do not change it. Both add horizon_observed.
-#}
with

orders as (
    select * from {{ ref('int_orders') }}
),

placed as (
    select
        order_id,
        customer_id,
        ordered_at,
        amount,
        discount_amount,
        promised_delivery_at
    from orders
),

cancelled as (
    select
        order_id,
        cancelled_at
    from orders
    where cancelled_at is not null
),

returned as (
    select
        order_id,
        returned_at
    from orders
    where returned_at is not null
),

delivered as (
    -- a delivery matters only to snapshots after its order was placed (dirty rows deliver before that)
    select
        order_id,
        delivered_at,
        greatest(delivered_at, ordered_at) as known_at
    from orders
    where delivered_at is not null
),

order_facts as (
    {{ dated_fact_hashes([
        ['placed', 'ordered_at'], ['cancelled', 'cancelled_at'], ['returned', 'returned_at'],
        ['delivered', 'known_at'],
    ]) }}
),

customers as (
    select * from {{ ref('int_customers') }}
),

dated_items as (
    -- an order line is known when its order was placed
    select
        items.*,
        orders.ordered_at as known_at
    from {{ ref('int_order_items') }} as items
    inner join orders on items.order_id = orders.order_id
),

sessions as (
    select * from {{ ref('int_sessions') }}
),

coupons as (
    select * from {{ ref('int_coupon_redemptions') }}
),

interventions as (
    select * from {{ ref('int_interventions') }}
),

activity_facts as (
    {{ dated_fact_hashes([
        ['customers', 'signup_at'], ['dated_items', 'known_at'], ['sessions', 'started_at'],
        ['coupons', 'redeemed_at'], ['interventions', 'sent_at'],
    ]) }}
),

order_days as (
    {{ daily_fact_sums('order_facts') }}
),

activity_days as (
    {{ daily_fact_sums('activity_facts') }}
),

daily as (
    select
        *,
        'orders' as fact_kind
    from order_days
    union all
    select
        *,
        'activity' as fact_kind
    from activity_days
),

spine as (
    select * from {{ ref('int_snapshot_spine') }}
),

cumulative as (
    select
        spine.snapshot_date,
        sum(case when daily.known_on < spine.snapshot_date then daily.n_facts end) as n_before,
        sum(case when daily.known_on < spine.snapshot_date then daily.hash_sum end) as hash_before,
        sum(case when daily.fact_kind = 'orders' then daily.n_facts end) as n_orders_to_horizon,
        sum(case when daily.fact_kind = 'orders' then daily.hash_sum end) as hash_orders_to_horizon
    from spine
    inner join daily on spine.horizon_end_date > daily.known_on
    group by spine.snapshot_date
)

select
    spine.snapshot_date,
    {{ fingerprint_of(['cumulative.n_before', 'cumulative.hash_before']) }} as behaviour_fingerprint,
    case
        when spine.horizon_observed
            then {{ fingerprint_of([
                'cumulative.n_before', 'cumulative.hash_before',
                'cumulative.n_orders_to_horizon', 'cumulative.hash_orders_to_horizon',
                'cast(spine.horizon_observed as integer)',
            ]) }}
        else {{ fingerprint_of([
            'cumulative.n_before', 'cumulative.hash_before', 'cast(spine.horizon_observed as integer)',
        ]) }}
    end as labels_fingerprint,
    spine.is_as_of,
    spine.horizon_observed
from spine
left join cumulative on spine.snapshot_date = cumulative.snapshot_date
