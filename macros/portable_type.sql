{#-
    This project writes column types as DuckDB names (sources and model YAML `data_type`: varchar, double,
    bigint, integer, boolean, timestamp, date, and lists like varchar[]); portable_type turns one into the running
    engine's name. type_double() is the 64-bit float (dbt.type_float() is a 32-bit float on DuckDB).
-#}
{% macro portable_type(name) %}
    {{ return(adapter.dispatch('portable_type')(name | lower | trim)) }}
{% endmacro %}

{% macro default__portable_type(name) %}
    {{ return(name) }}
{% endmacro %}

{% macro postgres__portable_type(name) %}
    {{ return({'double': 'double precision', 'double[]': 'double precision[]'}.get(name, name)) }}
{% endmacro %}

{% macro spark__portable_type(name) %}
    {%- set scalar = {'varchar': 'string', 'text': 'string', 'integer': 'int'} -%}
    {%- if name.endswith('[]') -%}
        {{ return('array<' ~ scalar.get(name[:-2], name[:-2]) ~ '>') }}
    {%- endif -%}
    {{ return(scalar.get(name, name)) }}
{% endmacro %}

{% macro type_double() %}
    {{ return(portable_type('double')) }}
{% endmacro %}
