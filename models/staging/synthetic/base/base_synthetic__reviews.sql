{#- Checks, survivor and staged columns: meta.staging of reviews in ../_synthetic__sources.yml. -#}
{{ checked_source_rows('synthetic', 'reviews', ref('stg_synthetic__customers')) }}
