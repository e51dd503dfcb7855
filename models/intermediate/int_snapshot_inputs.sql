{#-
    What each snapshot's rows were computed from, so incremental snapshot marts recompute exactly the snapshots
    whose inputs changed (macros/incremental_by_snapshot.sql). Every fact of the intermediate tables is dated by
    the day it became known (an order when placed; its cancellation, return and delivery on their own days, never
    before the order; an order line with its order; a customer at signup), hashed, and summed per day. A snapshot T's fingerprint
    covers the facts known before T: a late-arriving or corrected row dated before T changes it, a row after T
    does not. Labels read orders up to the horizon end and whether the horizon is observed, so their fingerprint
    covers order facts before horizon_end_date plus horizon_observed.
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
    select
        cast(ordered_at as date) as known_on,
        {{ row_hash('placed') }} as fact_hash
    from placed
    union all
    select
        cast(cancelled_at as date) as known_on,
        {{ row_hash('cancelled') }} as fact_hash
    from cancelled
    union all
    select
        cast(returned_at as date) as known_on,
        {{ row_hash('returned') }} as fact_hash
    from returned
    union all
    select
        cast(known_at as date) as known_on,
        {{ row_hash('delivered') }} as fact_hash
    from delivered
),

item_hashes as (
    select
        items.order_id,
        sum({{ row_hash('items') }}) as items_hash
    from {{ ref('int_order_items') }} as items
    group by items.order_id
),

activity_facts as (
    select
        cast(customers.signup_at as date) as known_on,
        {{ row_hash('customers') }} as fact_hash
    from {{ ref('int_customers') }} as customers
    union all
    select
        cast(orders.ordered_at as date) as known_on,
        item_hashes.items_hash as fact_hash
    from item_hashes
    inner join orders on item_hashes.order_id = orders.order_id
    union all
    select
        cast(sessions.started_at as date) as known_on,
        {{ row_hash('sessions') }} as fact_hash
    from {{ ref('int_sessions') }} as sessions
    union all
    select
        cast(coupons.redeemed_at as date) as known_on,
        {{ row_hash('coupons') }} as fact_hash
    from {{ ref('int_coupon_redemptions') }} as coupons
    union all
    select
        cast(interventions.sent_at as date) as known_on,
        {{ row_hash('interventions') }} as fact_hash
    from {{ ref('int_interventions') }} as interventions
),

daily as (
    select
        known_on,
        'orders' as fact_kind,
        count(*) as n_facts,
        sum(cast(fact_hash as decimal(38, 0))) as hash_sum
    from order_facts
    group by known_on
    union all
    select
        known_on,
        'activity' as fact_kind,
        count(*) as n_facts,
        sum(cast(fact_hash as decimal(38, 0))) as hash_sum
    from activity_facts
    group by known_on
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
    {{ dbt.hash("concat(cast(coalesce(cumulative.n_before, 0) as " ~ dbt.type_string() ~ "), ':', "
        ~ "cast(coalesce(cumulative.hash_before, 0) as " ~ dbt.type_string() ~ "))") }} as behaviour_fingerprint,
    {{ dbt.hash("concat(cast(coalesce(cumulative.n_orders_to_horizon, 0) as " ~ dbt.type_string() ~ "), ':', "
        ~ "cast(coalesce(cumulative.hash_orders_to_horizon, 0) as " ~ dbt.type_string() ~ "), ':', "
        ~ "cast(spine.horizon_observed as " ~ dbt.type_string() ~ "))") }} as labels_fingerprint
from spine
left join cumulative on spine.snapshot_date = cumulative.snapshot_date
