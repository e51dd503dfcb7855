{{ config(materialized='table') }}

{#- PII never passes staging: subject and body are redacted before anything else (text_columns). -#}
{{ checked_source_rows(
    'synthetic', 'support_tickets',
    key='ticket_id',
    survivor_order='created_at',
    row_checks=[
        ['ticket_id is null', 'null_id'],
        ['customer_id is null', 'null_customer_id'],
        ['created_at is null', 'null_timestamp'],
        ['subject is null and body is null', 'empty_text'],
        ['cast(created_at as date) > ' ~ max_valid_date(), 'future_timestamp'],
    ],
    columns=[
        'ticket_id',
        'customer_id',
        'order_id',
        'created_at',
        'lower(channel) as channel',
        'subject',
        'body',
        'lower(language) as language',
    ],
    text_columns=['subject', 'body'],
    parent={'model': 'stg_synthetic__customers', 'column': 'customer_id', 'reason': 'orphan_customer'},
) }}
