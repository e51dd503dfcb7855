{#- Checks, survivor and staged columns: meta.staging of sessions in ../_synthetic__sources.yml. -#}
{{ checked_source_rows('synthetic', 'sessions', ref('stg_synthetic__customers')) }}
