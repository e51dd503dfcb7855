{#-
    A parenthesised zero-row select with one typed null per column documented for a source table, usable wherever
    a relation is expected: `select * from {{ empty_relation_from_source('synthetic', 'reviews') }}`.
    `extra_columns` (name -> type) appends columns that staging adds beyond the raw contract.
-#}
{% macro empty_relation_from_source(source_name, table_name, extra_columns={}) %}
    {%- if not execute -%}
        {{ return('(select 1 as placeholder where 1 = 0)') }}
    {%- endif -%}
    {%- set node = source_node(source_name, table_name) -%}
    {%- set cols = [] -%}
    {%- for col in node.columns.values() -%}
        {%- do cols.append('cast(null as ' ~ portable_type(col.data_type) ~ ') as ' ~ col.name) -%}
    {%- endfor -%}
    {%- for name, data_type in extra_columns.items() -%}
        {%- do cols.append('cast(null as ' ~ portable_type(data_type) ~ ') as ' ~ name) -%}
    {%- endfor -%}
    {{ return('(select ' ~ cols | join(', ') ~ ' where 1 = 0)') }}
{% endmacro %}
