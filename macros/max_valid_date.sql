{#- Rows stamped after this date are future-dated: var('max_valid_date'), or today when null. -#}
{% macro max_valid_date() %}
    {%- if var('max_valid_date', none) -%}
        {{ return("cast('" ~ var('max_valid_date') ~ "' as date)") }}
    {%- else -%}
        {{ return('current_date') }}
    {%- endif -%}
{% endmacro %}
