{#-
    In a `dbt build`, data tests on an incremental snapshot mart (snapshot_incremental) check only the snapshots
    this invocation computed. The rows of every other snapshot were tested by the build that wrote them and have
    not changed since: a snapshot whose inputs change is recomputed, so it is one of this build's. A nightly build
    at 1M customers otherwise spent minutes re-testing ~10M unchanged rows. `dbt test`, a model not run in this
    invocation, engines that keep no record (Spark), and var test_all_snapshots: true check every row.

    The record: each incremental snapshot mart's pre-hook writes the snapshots it is about to compute (the same
    pending_snapshots() its query reads, against the same table) to churn_snapshot_builds, plus a null-date row
    that says "built in this invocation" even when nothing was pending.
-#}
{% macro snapshot_builds_table() %}
    {{- return(target.schema ~ '.churn_snapshot_builds') -}}
{% endmacro %}

{#- The engines that keep the record (Spark's Parquet tables have no delete). -#}
{% macro keeps_snapshot_builds() %}
    {{- return(target.type in ('duckdb', 'postgres')) -}}
{% endmacro %}

{#- on-run-start: the record table exists before any model's pre-hook writes to it (two threads creating it at
    once would conflict). -#}
{% macro create_snapshot_builds() %}
    {{- return(create_build_record(snapshot_builds_table(), {'snapshot_date': 'date'})) -}}
{% endmacro %}

{#- A record table of this kind (model_id, invocation_id, then `columns`: name -> type), where the engine keeps one. -#}
{% macro create_build_record(table, columns) %}
    {%- if not keeps_snapshot_builds() -%}
        {{- return('select 1') -}}
    {%- endif -%}
    {%- set typed = ['model_id ' ~ dbt.type_string(), 'invocation_id ' ~ dbt.type_string()] -%}
    {%- for name, type in columns.items() -%}
        {%- do typed.append(name ~ ' ' ~ type) -%}
    {%- endfor -%}
    {{- return('create table if not exists ' ~ table ~ ' (' ~ typed | join(', ') ~ ')') -}}
{% endmacro %}

{#- pre-hooks of snapshot_incremental: forget this model's last record, write this invocation's. -#}
{% macro forget_pending_snapshots() %}
    {%- if keeps_snapshot_builds() -%}
        delete from {{ snapshot_builds_table() }} where model_id = '{{ model.unique_id }}'
    {%- else -%}
        select 1
    {%- endif -%}
{% endmacro %}

{% macro record_pending_snapshots() %}
    {%- if keeps_snapshot_builds() -%}
        insert into {{ snapshot_builds_table() }} (model_id, invocation_id, snapshot_date)
        select '{{ model.unique_id }}', '{{ invocation_id }}', cast(null as date)
        union all
        select '{{ model.unique_id }}', '{{ invocation_id }}', pending.snapshot_date
        from ({{ pending_snapshots() }}) as pending
    {%- else -%}
        select 1
    {%- endif -%}
{% endmacro %}

{#- Whether this invocation's tests read every row of every table: `dbt test`, var test_all_snapshots, or an
    engine that keeps no record of what a build wrote. Otherwise a build's tests follow its records (the snapshots
    below, and the restaged keys of test_restaged_keys.sql). -#}
{% macro tests_every_row() %}
    {{- return(flags.WHICH != 'build' or var('test_all_snapshots', false) or not keeps_snapshot_builds()) -}}
{% endmacro %}

{#- A predicate on the rows of model `model_id` that this invocation's tests should check ('' = all rows). -#}
{% macro built_snapshots_predicate(model_id) %}
    {%- set node = graph.nodes.get(model_id) if execute and model_id else none -%}
    {%- set meta = node.config.meta if node else {} -%}
    {%- if not node or 'snapshot_inputs' not in (meta or {}) or tests_every_row() -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set recorded = run_query(
        'select distinct cast(snapshot_date as ' ~ dbt.type_string() ~ ') from ' ~ snapshot_builds_table()
        ~ " where model_id = '" ~ model_id ~ "' and invocation_id = '" ~ invocation_id ~ "'"
    ).columns[0].values() -%}
    {%- if not recorded -%}
        {{- return('') -}}  {#- not built in this invocation -#}
    {%- endif -%}
    {#- literal dates, so the engine skips the row groups of other snapshots -#}
    {%- set days = [] -%}
    {%- for day in recorded if day is not none -%}
        {%- do days.append("date '" ~ day ~ "'") -%}
    {%- endfor -%}
    {{- return('snapshot_date in (' ~ days | join(', ') ~ ')' if days else '1 = 0') -}}
{% endmacro %}

{#- The rows of a snapshot mart a singular test checks: `from {{ built_snapshots(ref('customer_rfm')) }}`, without an alias. -#}
{% macro built_snapshots(relation) %}
    {{- return(rows_where(relation, built_snapshots_predicate(tested_model_id(relation)), 'built_rows')) -}}
{% endmacro %}

{#- A singular test's relation in scope: the model id it names, and its rows under a predicate ('' = all of it). -#}
{% macro tested_model_id(relation) %}
    {{- return('model.' ~ project_name ~ '.' ~ relation.identifier) -}}
{% endmacro %}

{% macro rows_where(relation, predicate, alias) %}
    {{- return('(select * from ' ~ relation ~ ' where ' ~ predicate ~ ') as ' ~ alias if predicate else relation) -}}
{% endmacro %}

{#- dbt's wrapper around the model a generic test checks (global get_where_subquery), plus the scope above, that
    of staged tables (test_restaged_keys.sql) and that of enrichment models (test_enriched_rows.sql). -#}
{% macro get_where_subquery(relation) -%}
    {%- set tested = model.get('attached_node') -%}
    {%- set test_name = (model.get('test_metadata') or {}).get('name') -%}
    {%- set filters = [
        config.get('where', ''), built_snapshots_predicate(tested), restaged_keys_predicate(tested, relation),
        enriched_rows_predicate(tested) if test_name in scoped_enrichment_tests() else '',
    ] -%}
    {%- set filters = filters | select | list -%}
    {%- if not filters -%}
        {{- return(relation) -}}
    {%- endif -%}
    {{- return('(select * from ' ~ relation ~ ' where (' ~ filters | join(') and (') ~ ')) dbt_subquery') -}}
{%- endmacro %}
