{#-
    dbt enforces contracts on SQL models only. For Python models, this test compares the built table's columns
    and types with the columns and data_type declared in the model's YAML: one failing row per missing, extra
    or differently typed column.
-#}
{% test churn_python_contract(model) %}
    {%- set declared_cols = [] -%}
    {%- if execute -%}
        {%- set node = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
            | selectattr('alias', 'equalto', model.identifier) | first -%}
        {%- set declared_cols = node.columns.values() | list -%}
    {%- endif %}
    with

    declared as (
        select
            cast(null as {{ dbt.type_string() }}) as column_name,
            cast(null as {{ dbt.type_string() }}) as data_type
        where false
        {%- for col in declared_cols %}
        union all
        select
            '{{ col.name }}' as column_name,
            upper('{{ col.data_type }}') as data_type
        {%- endfor %}
    ),

    built as (
        select
            column_name,
            upper(data_type) as data_type
        from information_schema.columns
        where table_schema = '{{ model.schema }}' and table_name = '{{ model.identifier }}'
    )

    select
        coalesce(declared.column_name, built.column_name) as column_name,
        declared.data_type as declared_type,
        built.data_type as built_type
    from declared
    full outer join built on declared.column_name = built.column_name
    where declared.data_type is distinct from built.data_type
{% endtest %}
