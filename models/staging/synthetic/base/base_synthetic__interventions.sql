{#- Checks, survivor and staged columns: meta.staging of interventions in ../_synthetic__sources.yml. -#}
{{ checked_source_rows('synthetic', 'interventions', ref('stg_synthetic__customers')) }}
