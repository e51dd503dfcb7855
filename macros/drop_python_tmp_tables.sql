{#-
    Incremental Python models on dbt-duckdb 1.11 write their new rows to a real table named
    <model>__dbt_tmp<timestamp> in the main schema and never drop it (the materialization thinks it is a
    TEMP table). Used as a post-hook by every incremental Python model: returns the drop statements for every
    such leftover of `relation` (nothing at parse time).
-#}
{% macro drop_python_tmp_tables(relation) %}
    {%- if execute -%}
        {%- set leftovers = run_query(
            "select table_schema, table_name from information_schema.tables"
            ~ " where table_catalog = current_database()"
            ~ " and starts_with(table_name, '" ~ relation.identifier ~ "__dbt_tmp')"
        ) -%}
        {%- for row in leftovers.rows -%}
            drop table if exists "{{ row[0] }}"."{{ row[1] }}";
        {% endfor -%}
    {%- endif -%}
{% endmacro %}
