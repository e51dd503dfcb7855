{#-
    In a `dbt build`, the row-level data tests of a base staging model, and of a staging view over it, check only
    the rows this invocation staged. A base model restages whole key groups (every row with one id,
    macros/staging_incremental.sql), so a duplicate id can only sit among rows staged together, and a row whose
    parent vanished is restaged (rechecked) in the build that lost the parent: the rows staged earlier were tested
    when they were staged and cannot have changed. A nightly build at 1M customers otherwise re-tested ~40M
    unchanged staged rows. Tests over a whole table (reconciles_with_source, quarantined_share) always see every
    row, as do `dbt test`, a full refresh, a build that did not run the base model, Spark (it rebuilds the table)
    and var test_all_rows: true.

    The record is the row itself: every staged row carries staged_at, the start of the invocation that staged it.
-#}

{#- Generic tests whose verdict on a table is the union of their verdicts on its rows (or on key groups). -#}
{% macro row_level_tests() %}
    {{- return(['not_null', 'unique', 'accepted_values', 'accepted_range', 'relationships', 'expression_is_true',
        'unique_combination_of_columns']) -}}
{% endmacro %}

{#- The value of staged_at for the rows this invocation stages. -#}
{% macro staged_at_value() %}
    {{- return("cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "' as " ~ dbt.type_timestamp() ~ ")") -}}
{% endmacro %}

{#- The base staging model a node reads its staged rows from: itself, or the one base a staging view selects
    from, when that base restages incrementally (none on Spark, where it is a table). -#}
{% macro staged_base_of(node) %}
    {%- set bases = [] -%}
    {%- for unique_id in ([node.unique_id] if node.name.startswith('base_') else node.depends_on.nodes) -%}
        {%- set parent = graph.nodes.get(unique_id) -%}
        {%- if parent and parent.name.startswith('base_') -%}{%- do bases.append(parent) -%}{%- endif -%}
    {%- endfor -%}
    {{- return(bases[0] if bases | length == 1 and bases[0].config.materialized == 'incremental' else none) -}}
{% endmacro %}

{#- A predicate on the rows of model `model_id` that the test being compiled should check ('' = all rows). -#}
{% macro staged_rows_predicate(model_id) %}
    {%- set node = graph.nodes.get(model_id) if execute and model_id else none -%}
    {%- if not node or flags.WHICH != 'build' or flags.FULL_REFRESH or var('test_all_rows', false)
        or (model.test_metadata or {}).get('name') not in row_level_tests() -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set base = staged_base_of(node) -%}
    {%- if base is none or base.unique_id not in selected_resources -%}
        {{- return('') -}}
    {%- endif -%}
    {%- if base.unique_id == node.unique_id -%}
        {{- return('staged_at = ' ~ staged_at_value()) -}}
    {%- endif -%}
    {#- a view over the base: its rows of the key groups staged now (the view keeps the source's key column) -#}
    {%- set keys = [] -%}
    {%- for unique_id in base.depends_on.nodes if unique_id in graph.sources -%}
        {%- do keys.append((graph.sources[unique_id].meta.get('staging') or {}).get('key')) -%}
    {%- endfor -%}
    {%- set key = keys[0] if keys | length == 1 else none -%}
    {%- if not key or key not in node.columns -%}
        {{- return('') -}}
    {%- endif -%}
    {#- named, not ref()'d: the test does not depend on the base in dbt's graph -#}
    {%- set base_relation = api.Relation.create(database=base.database, schema=base.schema, identifier=base.alias) -%}
    {{- return(key ~ ' in (select row_key from ' ~ base_relation ~ ' where staged_at = ' ~ staged_at_value() ~ ')') -}}
{% endmacro %}
