{{ config(materialized='table', post_hook="{{ require_rows('synthetic', 'orders') }}") }}

{#- Conflicting copies of an order: the survivor is decided by what the order was when placed, never by its
    status, which can change later (a later cancellation must not swap the surviving amount). -#}
{{ checked_source_rows(
    'synthetic', 'orders',
    key='order_id',
    survivor_order='ordered_at, amount, discount_amount, customer_id',
    row_checks=[
        ['order_id is null', 'null_id'],
        ['customer_id is null', 'null_customer_id'],
        ['ordered_at is null', 'null_timestamp'],
        ['amount < 0 or discount_amount < 0', 'negative_amount'],
        ['cast(ordered_at as date) > ' ~ max_valid_date(), 'future_timestamp'],
        ["coalesce(lower(status), '') not in ('completed', 'cancelled', 'returned')", 'invalid_status'],
    ],
    columns=[
        'order_id',
        'customer_id',
        'ordered_at',
        'lower(status) as status',
        'amount',
        'coalesce(discount_amount, 0) as discount_amount',
        'promised_delivery_at',
        'delivered_at',
        'cancelled_at',
        'returned_at',
    ],
    parent={'model': 'stg_synthetic__customers', 'column': 'customer_id', 'reason': 'orphan_customer'},
) }}
