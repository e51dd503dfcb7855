{#- dbt-duckdb looks up a table's indexes in duckdb_indexes() before it swaps the table, for every model. In
    DuckDB 1.4 that catalog scan fails ("Table with name fct_orders__dbt_backup does not exist!") when another
    dbt thread dropped a table after this transaction began, which failed whole builds at random. Only a model
    that declares indexes can have any, so only such a model looks them up. -#}
{% macro drop_indexes_on_relation(relation) -%}
  {%- if config.get('indexes') -%}
    {% do dbt.drop_indexes_on_relation(relation) %}
  {%- endif -%}
{%- endmacro %}
