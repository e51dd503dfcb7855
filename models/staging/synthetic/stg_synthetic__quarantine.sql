{{ config(materialized='table') }}

select
    'customers' as source_table,
    row_key,
    quarantine_reason as reason,
    quarantine_detail as detail
from {{ ref('base_synthetic__customers') }}
where quarantine_reason is not null

union all

select
    'orders' as source_table,
    row_key,
    quarantine_reason as reason,
    quarantine_detail as detail
from {{ ref('base_synthetic__orders') }}
where quarantine_reason is not null

union all

select
    'order_items' as source_table,
    row_key,
    quarantine_reason as reason,
    quarantine_detail as detail
from {{ ref('base_synthetic__order_items') }}
where quarantine_reason is not null

union all

select
    'sessions' as source_table,
    row_key,
    quarantine_reason as reason,
    quarantine_detail as detail
from {{ ref('base_synthetic__sessions') }}
where quarantine_reason is not null

union all

select
    'coupon_redemptions' as source_table,
    row_key,
    quarantine_reason as reason,
    quarantine_detail as detail
from {{ ref('base_synthetic__coupon_redemptions') }}
where quarantine_reason is not null

union all

select
    'reviews' as source_table,
    row_key,
    quarantine_reason as reason,
    quarantine_detail as detail
from {{ ref('base_synthetic__reviews') }}
where quarantine_reason is not null

union all

select
    'support_tickets' as source_table,
    row_key,
    quarantine_reason as reason,
    quarantine_detail as detail
from {{ ref('base_synthetic__support_tickets') }}
where quarantine_reason is not null

union all

select
    'interventions' as source_table,
    row_key,
    quarantine_reason as reason,
    quarantine_detail as detail
from {{ ref('base_synthetic__interventions') }}
where quarantine_reason is not null
