{{ config(materialized='table') }}

{{ checked_source_rows(
    'synthetic', 'sessions',
    key='session_id',
    survivor_order='started_at',
    row_checks=[
        ['session_id is null', 'null_id'],
        ['customer_id is null', 'null_customer_id'],
        ['started_at is null', 'null_timestamp'],
        ['page_views < 0 or cart_adds < 0', 'negative_count'],
        ['cast(started_at as date) > ' ~ max_valid_date(), 'future_timestamp'],
    ],
    columns=[
        'session_id',
        'customer_id',
        'started_at',
        'lower(device) as device',
        'coalesce(is_login, false) as is_login',
        'coalesce(page_views, 0) as page_views',
        'coalesce(cart_adds, 0) as cart_adds',
    ],
    parent={'model': 'stg_synthetic__customers', 'column': 'customer_id', 'reason': 'orphan_customer'},
) }}
