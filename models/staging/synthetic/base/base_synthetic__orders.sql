{{ config(post_hook="{{ require_rows('synthetic', 'orders') }}") }}

{#- Checks, survivor and staged columns: meta.staging of orders in ../_synthetic__sources.yml. -#}
{{ checked_source_rows('synthetic', 'orders', ref('stg_synthetic__customers')) }}
