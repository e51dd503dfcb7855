{#-
    The table a Python step wrote: ref(model_name) where dbt runs Python models (var python_model_targets), else
    the same table as source python_<schema> (models/_python_steps__sources.yml), written by a `churn build` job.
    SQL that reads a Python model's output goes through this macro so it does not care which way the step ran.
-#}
{% macro python_step(schema, model_name) %}
    {%- if target.type in var('python_model_targets') -%}
        {{ return(ref(model_name)) }}
    {%- endif -%}
    {{ return(source('python_' ~ schema, model_name)) }}
{% endmacro %}
