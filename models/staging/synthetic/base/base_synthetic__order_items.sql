{#- Checks, survivor and staged columns: meta.staging of order_items in ../_synthetic__sources.yml. -#}
{{ checked_source_rows('synthetic', 'order_items', ref('stg_synthetic__orders')) }}
