{#-
    In a `dbt build`, the row tests of a staged table (a base staging model, macros/staging_incremental.sql, and
    the stg view over it) check only the key groups this invocation restaged. Every other row was tested by the
    build that staged it and has not changed since: a key group whose raw rows, parent or staging version change
    is restaged, so it is one of this build's. The rows checked are all rows with a restaged key, old ones
    included, so a copy the replacement failed to delete still breaks `unique`. A nightly build at 1M customers
    otherwise re-tested 26M unchanged sessions (unique and relationships: ~30 s of node time).

    Only row tests are scoped (SCOPED_TESTS); tests that compare a whole table with its source (reconciles_with_source,
    quarantined_share) always read every row. Like the snapshot scope (test_built_snapshots.sql), `dbt test`, a
    model not built incrementally in this invocation (first build, --full-refresh), a restage of more than a tenth
    of the table, Spark, and var test_all_snapshots: true check every row.

    The record: the replace_key_groups strategy writes the keys it restaged to churn_staging_builds, plus a
    null-key row that says "restaged in this invocation" (all_rows: every row counts as restaged).
-#}
{% macro staging_builds_table() %}
    {{- return(target.schema ~ '.churn_staging_builds') -}}
{% endmacro %}

{% macro scoped_staging_tests() %}
    {{- return(['unique', 'not_null', 'relationships', 'accepted_values', 'accepted_range', 'column_constraints']) -}}
{% endmacro %}

{#- on-run-start, beside create_snapshot_builds -#}
{% macro create_staging_builds() %}
    {{- return(create_build_record(staging_builds_table(), {'row_key': dbt.type_string(), 'all_rows': 'boolean'})) -}}
{% endmacro %}

{#- Statements for the replace_key_groups strategy: `source` holds the restaged rows (one or more per key). -#}
{% macro record_restaged_keys(source, target, whole_table) %}
    {%- if keeps_snapshot_builds() -%}
        {%- set sizes = run_query(
            "select (select count(*) from " ~ source ~ "), (select count(*) from " ~ target ~ ")"
        ).rows[0] -%}
        {%- set all_rows = whole_table or sizes[0] > 0.1 * sizes[1] -%}
    delete from {{ staging_builds_table() }} where model_id = '{{ model.unique_id }}';
    insert into {{ staging_builds_table() }} (model_id, invocation_id, row_key, all_rows)
    select '{{ model.unique_id }}', '{{ invocation_id }}', cast(null as {{ dbt.type_string() }}), {{ all_rows }}
        {%- if not all_rows %}
    union all
    select distinct '{{ model.unique_id }}', '{{ invocation_id }}', row_key, false from {{ source }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}

{#- The base staging model a tested model's rows come from: the model itself, or the one it selects from. -#}
{% macro restaged_base_node(node) %}
    {%- set nodes = graph.nodes -%}
    {%- for candidate in [node.unique_id] + (node.depends_on.nodes if node.resource_type == 'model' else []) -%}
        {%- set base = nodes.get(candidate) -%}
        {%- if base and base.config.get('incremental_strategy') == 'replace_key_groups'
            and (candidate == node.unique_id or node.depends_on.nodes | length == 1) -%}
            {{- return(base) -}}
        {%- endif -%}
    {%- endfor -%}
    {{- return(none) -}}
{% endmacro %}

{#- A predicate on the rows of `relation` (the model `model_id`) that this test should check ('' = all rows). -#}
{% macro restaged_keys_predicate(model_id, relation) %}
    {%- set node = graph.nodes.get(model_id) if execute and model_id else none -%}
    {%- set test_name = (model.get('test_metadata') or {}).get('name') -%}
    {%- if not node or test_name not in scoped_staging_tests() or tests_every_row() -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set base = restaged_base_node(node) -%}
    {%- set sources = [] -%}
    {%- for parent in (base.depends_on.nodes if base else []) if parent in graph.sources -%}
        {%- do sources.append(graph.sources[parent]) -%}
    {%- endfor -%}
    {%- set spec = sources[0].meta.get('staging') if sources | length == 1 else none -%}
    {%- if not spec -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set key = spec.key -%}
    {%- if key not in adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set record = "select row_key, all_rows from " ~ staging_builds_table() ~ " where model_id = '"
        ~ base.unique_id ~ "' and invocation_id = '" ~ invocation_id ~ "'" -%}
    {%- set marker = run_query(record ~ " and row_key is null") -%}
    {%- if not marker.rows or marker.rows[0][1] -%}
        {{- return('') -}}  {#- not restaged in this invocation, or every row was -#}
    {%- endif -%}
    {{- return('cast(' ~ key ~ ' as ' ~ dbt.type_string() ~ ') in (select row_key from (' ~ record
        ~ ') as restaged where row_key is not null)') -}}
{% endmacro %}
