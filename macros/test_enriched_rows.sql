{#-
    In a `dbt build`, the row tests of an enrichment model (review_tags, ticket_tags, review_embeddings) check only
    the rows this invocation enriched: enriched_at at or after the start of this invocation's run of the model, as
    its enrichment_runs row records. Every other row was tested by the build that enriched it and has not changed
    since: an enrichment model writes only new or changed texts, each stamped enriched_at. A 1M nightly otherwise
    re-read all 1.3M embeddings (1.3 GB) in two tests, 5 s of node time, to check the ~2,600 it wrote.

    Only per-row tests of a model that declares enriched_at are scoped (scoped_enrichment_tests): unique and
    relationships also read every other row.
    Like the snapshot scope (test_built_snapshots.sql), `dbt test`, a model that did not run in this invocation
    (no enrichment_runs row of it), Spark, and var test_all_snapshots: true check every row.
-#}
{% macro scoped_enrichment_tests() %}
    {{- return(['not_null', 'accepted_values', 'accepted_range', 'column_constraints']) -}}
{% endmacro %}

{#- A predicate on the rows of model `model_id` that this invocation's tests should check ('' = all rows). -#}
{% macro enriched_rows_predicate(model_id) %}
    {%- set node = graph.nodes.get(model_id) if execute and model_id else none -%}
    {%- if not node or 'enriched_at' not in node.columns or tests_every_row() -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set runs = adapter.get_relation(database=node.database, schema=node.schema, identifier='enrichment_runs') -%}
    {%- if runs is none -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set started = run_query(
        'select cast(min(started_at) as ' ~ dbt.type_string() ~ ') from ' ~ runs
        ~ " where invocation_id = '" ~ invocation_id ~ "' and model_name = '" ~ node.alias ~ "'"
    ).columns[0].values()[0] -%}
    {{- return("enriched_at >= cast('" ~ started ~ "' as timestamp)" if started else '') -}}
{% endmacro %}

{#- The rows of an enrichment model a singular test checks: `from {{ enriched_rows(ref('review_embeddings')) }}`. -#}
{% macro enriched_rows(relation) %}
    {{- return(rows_where(relation, enriched_rows_predicate(tested_model_id(relation)), 'enriched')) -}}
{% endmacro %}
