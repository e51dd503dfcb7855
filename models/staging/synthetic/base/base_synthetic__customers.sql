{{ config(post_hook="{{ require_rows('synthetic', 'customers') }}") }}

{#- Checks, survivor and staged columns: meta.staging of customers in ../_synthetic__sources.yml. -#}
{{ checked_source_rows('synthetic', 'customers') }}
