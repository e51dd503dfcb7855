{{ config(materialized='table') }}

{#- One block per raw table: every row its base model quarantined, with the first failed check. A new source
    table adds its name here, its meta.staging in _synthetic__sources.yml and its one-call base model. -#}
{%- set tables = [
    'customers', 'orders', 'order_items', 'sessions', 'coupon_redemptions', 'reviews', 'support_tickets',
    'interventions',
] %}

{% for table in tables %}
    {%- if not loop.first %}

        union all

    {% endif %}
    select
        '{{ table }}' as source_table,
        row_key,
        quarantine_reason as reason,
        quarantine_detail as detail
    from {{ ref('base_synthetic__' ~ table) }}
    where quarantine_reason is not null
{%- endfor %}
