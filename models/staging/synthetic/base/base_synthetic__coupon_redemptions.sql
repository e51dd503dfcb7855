{{ config(materialized='table') }}

{{ checked_source_rows(
    'synthetic', 'coupon_redemptions',
    key='redemption_id',
    survivor_order='redeemed_at',
    row_checks=[
        ['redemption_id is null', 'null_id'],
        ['customer_id is null', 'null_customer_id'],
        ['redeemed_at is null', 'null_timestamp'],
        ['discount_amount < 0', 'negative_amount'],
        ['cast(redeemed_at as date) > ' ~ max_valid_date(), 'future_timestamp'],
    ],
    columns=[
        'redemption_id', 'customer_id', 'order_id', 'redeemed_at', 'upper(coupon_code) as coupon_code', 'discount_amount'
    ],
    parent={'model': 'stg_synthetic__customers', 'column': 'customer_id', 'reason': 'orphan_customer'},
) }}
