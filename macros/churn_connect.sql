{#- `dbt run-operation churn_connect`: opens the target's connection. On a Spark `session` target that starts the
    Spark session in this process with the profile's settings, which the Python steps then share. -#}
{% macro churn_connect() %}
    {% do run_query('select 1') %}
{% endmacro %}
