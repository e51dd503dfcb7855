{#- Checks, survivor and staged columns: meta.staging of coupon_redemptions in ../_synthetic__sources.yml. -#}
{{ checked_source_rows('synthetic', 'coupon_redemptions', ref('stg_synthetic__customers')) }}
