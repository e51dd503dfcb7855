{{ config(materialized='table') }}

{{ checked_source_rows(
    'synthetic', 'interventions',
    key='intervention_id',
    survivor_order='sent_at',
    row_checks=[
        ['intervention_id is null', 'null_id'],
        ['customer_id is null', 'null_customer_id'],
        ['sent_at is null', 'null_timestamp'],
        ["coalesce(lower(arm), '') not in ('treatment', 'control')", 'invalid_arm'],
        ['unit_cost < 0', 'negative_amount'],
        ['cast(sent_at as date) > ' ~ max_valid_date(), 'future_timestamp'],
    ],
    columns=[
        'intervention_id',
        'customer_id',
        'campaign_id',
        'sent_at',
        'lower(action) as action',
        'lower(channel) as channel',
        'lower(arm) as arm',
        'unit_cost',
    ],
    parent={'model': 'stg_synthetic__customers', 'column': 'customer_id', 'reason': 'orphan_customer'},
) }}
