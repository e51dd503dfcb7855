{#- dbt's wrapper around the model a generic test checks (the global get_where_subquery): the test's `where`
    config, and in a `dbt build` only the rows that build wrote (macros/test_built_snapshots.sql for snapshot
    marts, macros/test_staged_rows.sql for staging). -#}
{% macro get_where_subquery(relation) -%}
    {%- set tested = model.get('attached_node') -%}
    {%- set filters = [config.get('where', ''), built_snapshots_predicate(tested), staged_rows_predicate(tested)] -%}
    {%- set filters = filters | select | list -%}
    {%- if not filters -%}
        {{- return(relation) -}}
    {%- endif -%}
    {{- return('(select * from ' ~ relation ~ ' where (' ~ filters | join(') and (') ~ ')) dbt_subquery') -}}
{%- endmacro %}
