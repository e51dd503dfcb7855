{{ config(materialized='table') }}

{#- PII never passes staging: title and body are redacted before anything else (text_columns). -#}
{{ checked_source_rows(
    'synthetic', 'reviews',
    key='review_id',
    survivor_order='created_at',
    row_checks=[
        ['review_id is null', 'null_id'],
        ['customer_id is null', 'null_customer_id'],
        ['created_at is null', 'null_timestamp'],
        ['rating not between 1 and 5', 'invalid_rating'],
        ['title is null and body is null', 'empty_text'],
        ['cast(created_at as date) > ' ~ max_valid_date(), 'future_timestamp'],
    ],
    columns=['review_id', 'customer_id', 'order_id', 'created_at', 'rating', 'title', 'body', 'lower(language) as language'],
    text_columns=['title', 'body'],
    parent={'model': 'stg_synthetic__customers', 'column': 'customer_id', 'reason': 'orphan_customer'},
) }}
