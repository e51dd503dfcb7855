{#-
    The churn feature registry (seeds/churn_features.csv) as select-list lines for churn_training_set:
    each feature is its `expression`, or `<source>.<feature_name>` when the expression is empty, where `source`
    names the feature mart (a CTE of the same name in churn_training_set). At parse time (no database) there
    are no lines. The contract follows the same seed: python -m python_jobs.churn.feature_contract rewrites the
    churn_training_set columns of models/ml/_ml__models.yml (a test fails when they drift).
-#}
{% macro churn_feature_columns() %}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set lines = [] -%}
    {%- for row in adapter.dispatch('churn_feature_registry')().rows -%}
        {%- set expression = row['expression'] or row['source'] ~ '.' ~ row['feature_name'] -%}
        {%- do lines.append(expression ~ ' as ' ~ row['feature_name']) -%}
    {%- endfor -%}
    {{ return(lines) }}
{% endmacro %}

{#- DuckDB reads the seed file itself, so compiling (sqlfluff, a fresh warehouse) needs no loaded seed. -#}
{% macro duckdb__churn_feature_registry() %}
    {%- set seed = graph.nodes.values() | selectattr('resource_type', 'equalto', 'seed')
        | selectattr('name', 'equalto', 'churn_features') | first -%}
    {%- set path = seed.root_path ~ '/' ~ seed.original_file_path -%}
    {{ return(run_query(
        "select feature_name, source, expression from read_csv('" ~ path ~ "', header = true, all_varchar = true)"
    )) }}
{% endmacro %}

{% macro default__churn_feature_registry() %}
    {{ return(run_query("select feature_name, source, expression from " ~ ref('churn_features'))) }}
{% endmacro %}
