{#- pre_hook of an incremental model whose column became nullable: a table built before keeps the NOT NULL its
    contract gave the column (DuckDB enforces contracts here), and the first null row would fail the build. Dropping
    it is a no-op once done; a new table takes the contract as it is now. -#}
{% macro drop_not_null(column) %}
    {%- if target.type == 'duckdb' and is_incremental() -%}
        alter table {{ this }} alter column {{ column }} drop not null
    {%- else -%}
        select 1
    {%- endif -%}
{% endmacro %}
