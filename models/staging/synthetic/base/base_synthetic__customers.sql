{{ config(materialized='table', post_hook="{{ require_rows('synthetic', 'customers') }}") }}

{{ checked_source_rows(
    'synthetic', 'customers',
    key='customer_id',
    survivor_order='signup_at',
    row_checks=[
        ['customer_id is null', 'null_id'],
        ['signup_at is null', 'null_timestamp'],
        ['cast(signup_at as date) > ' ~ max_valid_date(), 'future_timestamp'],
    ],
    columns=[
        'customer_id',
        'signup_at',
        'upper(country) as country',
        'lower(acquisition_channel) as acquisition_channel',
        'sha256(lower(email)) as email_hash',
    ],
) }}
