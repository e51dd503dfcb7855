{#-
    The file path (or glob) of a source table with external_location, vars resolved (execute time only).
    A var whose value is itself Jinja (raw_path is env_var(...)) reaches source meta unrendered, and
    dbt-duckdb's str.format would mangle it, so the meta template is rendered here.
-#}
{% macro source_location(source_name, table_name) %}
    {%- set node = source_node(source_name, table_name) -%}
    {%- set template = node.meta.get('external_location') or node.source_meta.get('external_location') -%}
    {{ return(render(template) | replace('{name}', table_name)) }}
{% endmacro %}
