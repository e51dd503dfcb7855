{#-
    Where a raw source table is read from (execute time only): on DuckDB the file path (or glob) of its
    external_location, vars resolved; elsewhere the source table's name. `source_relation` is what a FROM clause
    reads: the quoted path on DuckDB, the source table elsewhere.
    A var whose value is itself Jinja (raw_path is env_var(...)) reaches source meta unrendered, and
    dbt-duckdb's str.format would mangle it, so the meta template is rendered here.
-#}
{% macro source_location(source_name, table_name) %}
    {{ return(adapter.dispatch('source_location')(source_name, table_name)) }}
{% endmacro %}

{% macro default__source_location(source_name, table_name) %}
    {{ return(source(source_name, table_name) | string) }}
{% endmacro %}

{% macro duckdb__source_location(source_name, table_name) %}
    {%- set node = source_node(source_name, table_name) -%}
    {%- set template = node.meta.get('external_location') or node.source_meta.get('external_location') -%}
    {{ return(render(template) | replace('{name}', table_name)) }}
{% endmacro %}

{% macro source_relation(source_name, table_name) %}
    {{ return(adapter.dispatch('source_relation')(source_name, table_name)) }}
{% endmacro %}

{% macro default__source_relation(source_name, table_name) %}
    {{ return(source(source_name, table_name)) }}
{% endmacro %}

{% macro duckdb__source_relation(source_name, table_name) %}
    {{ return("'" ~ source_location(source_name, table_name) ~ "'") }}
{% endmacro %}
