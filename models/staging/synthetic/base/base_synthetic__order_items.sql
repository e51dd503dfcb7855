{{ config(materialized='table') }}

{{ checked_source_rows(
    'synthetic', 'order_items',
    key='order_item_id',
    survivor_order='order_id',
    row_checks=[
        ['order_item_id is null or order_id is null', 'null_id'],
        ['unit_price < 0', 'negative_amount'],
        ['quantity <= 0', 'non_positive_quantity'],
    ],
    columns=['order_item_id', 'order_id', 'product_id', 'lower(category) as category', 'quantity', 'unit_price'],
    parent={'model': 'stg_synthetic__orders', 'column': 'order_id', 'reason': 'orphan_order'},
) }}
