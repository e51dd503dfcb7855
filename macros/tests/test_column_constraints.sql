{#-
    Checks every constraint declared in a model's YAML (its columns' `constraints`, and model-level ones) in one
    query: not_null fails for nulls, check for rows where the expression is false (null passes, as in SQL). Applied
    once per model (`data_tests: [column_constraints]`) instead of one not_null/accepted_range/accepted_values test
    per column: every data test is a dbt node with its own fixed cost (483 -> 201 data tests; a 1M nightly's test
    node time 93 -> 74 s, docs/benchmarks/2026-12-03-build-1M-session23.md). Where the model's contract is enforced (DuckDB),
    the engine checks the same constraints on write; the test checks them on every engine and every row a build
    tests (test_built_snapshots.sql, test_restaged_keys.sql).

    Returns one row per broken constraint (column_name, constraint_type, expression, failing_rows); the test's
    failures are the rows that break one. tests/python/test_column_constraints.py holds that every model with
    constraints applies it.
-#}
{% test column_constraints(model) %}
    {{ config(fail_calc='coalesce(sum(failing_rows), 0)') }}
    {%- set checks = column_constraint_checks(attached_constraints()) -%}
    with counts as (
        select
            {%- for check in checks %}
            cast(sum(case when {{ check.fails }} then 1 else 0 end) as {{ dbt.type_bigint() }}) as failing_{{ loop.index }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ model }}
    )

    {% for check in checks -%}
    select
        {{ check.column_sql }} as column_name,
        '{{ check.type }}' as constraint_type,
        {{ check.expression_sql }} as expression,
        failing_{{ loop.index }} as failing_rows
    from counts
    where failing_{{ loop.index }} > 0
    {{ 'union all' if not loop.last }}
    {% endfor -%}
{% endtest %}

{#- (column name, or none for a model-level constraint; constraint) of the model this test is attached to (inside
    a macro, `model` is the test node; inside the test block it is the relation tested). -#}
{% macro attached_constraints() %}
    {%- set node = graph.nodes.get(model.get('attached_node')) if execute else none -%}
    {%- set found = [] -%}
    {%- if node -%}
        {%- for column in node.columns.values() -%}
            {%- for constraint in column.get('constraints', []) -%}
                {%- do found.append((column.name, constraint)) -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- for constraint in node.get('constraints', []) -%}
            {%- do found.append((none, constraint)) -%}
        {%- endfor -%}
    {%- endif -%}
    {{- return(found) -}}
{% endmacro %}

{#- Each constraint as {type, fails: a predicate true for a breaking row, column_sql, expression_sql}. -#}
{% macro column_constraint_checks(constraints) %}
    {%- set checks = [] -%}
    {%- for column, constraint in constraints -%}
        {%- set type = constraint.get('type') -%}
        {%- set expression = constraint.get('expression') -%}
        {%- if type == 'not_null' and column -%}
            {%- set fails = column ~ ' is null' -%}
        {%- elif type == 'check' and expression -%}
            {%- set fails = 'not coalesce((' ~ expression ~ '), true)' -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error(
                "column_constraints on " ~ model.get('attached_node') ~ ": constraint " ~ tojson(constraint)
                ~ (" on column " ~ column if column else "") ~ " is not checked by this test (it checks not_null on a "
                ~ "column and check with an expression); use a data test such as unique or relationships instead"
            ) }}
        {%- endif -%}
        {%- do checks.append({
            'type': type,
            'fails': fails,
            'column_sql': "'" ~ column ~ "'" if column else 'cast(null as ' ~ dbt.type_string() ~ ')',
            'expression_sql': "'" ~ expression | replace("'", "''") ~ "'" if expression
                else 'cast(null as ' ~ dbt.type_string() ~ ')',
        }) -%}
    {%- endfor -%}
    {%- if execute and not checks -%}
        {{ exceptions.raise_compiler_error(
            "column_constraints on " ~ model.get('attached_node') ~ ": the model declares no constraints to check"
        ) }}
    {%- endif -%}
    {{- return(checks) -}}
{% endmacro %}
