{#- Checks, survivor and staged columns: meta.staging of support_tickets in ../_synthetic__sources.yml. -#}
{{ checked_source_rows('synthetic', 'support_tickets', ref('stg_synthetic__customers')) }}
