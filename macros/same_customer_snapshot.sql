{#- Join condition on the snapshot marts' grain (customer_id, snapshot_date): `on {{ same_customer_snapshot('a', 'b') }}`. -#}
{% macro same_customer_snapshot(left, right) -%}
    {{ left }}.customer_id = {{ right }}.customer_id and {{ left }}.snapshot_date = {{ right }}.snapshot_date
{%- endmacro %}
