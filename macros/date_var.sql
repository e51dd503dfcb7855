{#- A date var as a SQL date literal, or the SQL `null` (typed as date) when the var is unset. -#}
{% macro date_var(name) %}
    {%- set value = var(name, none) -%}
    {%- if value is none or value | string | lower in ('', 'none', 'null') -%}
        {{ return('cast(null as date)') }}
    {%- endif -%}
    {{ return("cast('" ~ value ~ "' as date)") }}
{% endmacro %}
