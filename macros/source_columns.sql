{#-
    Lower-cased column names of a raw source table, or none when it is absent (execute time only).
    DuckDB reads the source's file (glob() and describe through run_query); other engines ask the adapter about
    the source table (raw tables loaded into schema CHURN_RAW_SCHEMA).
-#}
{% macro source_columns(source_name, table_name) %}
    {{ return(adapter.dispatch('source_columns')(source_name, table_name)) }}
{% endmacro %}

{% macro default__source_columns(source_name, table_name) %}
    {%- set relation = source(source_name, table_name) -%}
    {%- set found = adapter.get_relation(relation.database, relation.schema, relation.identifier) -%}
    {%- if found is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_columns_in_relation(found) | map(attribute='name') | map('lower') | list) }}
{% endmacro %}

{% macro duckdb__source_columns(source_name, table_name) %}
    {%- set location = source_location(source_name, table_name) -%}
    {%- set found = run_query("select count(*) from glob('" ~ location ~ "')").columns[0].values()[0] -%}
    {%- if found == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set described = run_query("describe select * from '" ~ location ~ "'") -%}
    {{ return(described.columns[0].values() | map('lower') | list) }}
{% endmacro %}
