{#-
    The churn feature registry (seeds/churn_features.csv) as select-list lines for churn_training_set:
    each feature is its `expression`, or `<source>.<feature_name>` when the expression is empty, where `source`
    names the feature mart (a CTE of the same name in churn_training_set). The contract follows the same seed:
    python -m python_jobs.churn.feature_contract rewrites the churn_training_set columns of
    models/ml/_ml__models.yml (tests/python/test_churn_features.py fails when they drift).
-#}
{% macro churn_feature_columns() %}
    {%- set lines = [] -%}
    {%- for row in seed_rows('churn_features', ['feature_name', 'source', 'expression']) -%}
        {%- set expression = row['expression'] or row['source'] ~ '.' ~ row['feature_name'] -%}
        {%- do lines.append(expression ~ ' as ' ~ row['feature_name']) -%}
    {%- endfor -%}
    {{ return(lines) }}
{% endmacro %}
