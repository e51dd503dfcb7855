{#- Cast that yields null instead of failing (DuckDB try_cast); other adapters fall back to dbt.safe_cast. -#}
{% macro try_cast_sql(expression, data_type) %}
    {{ return(adapter.dispatch('try_cast_sql')(expression, data_type)) }}
{% endmacro %}

{% macro default__try_cast_sql(expression, data_type) %}
    {{ return(dbt.safe_cast(expression, data_type) | trim) }}
{% endmacro %}

{% macro duckdb__try_cast_sql(expression, data_type) %}
    {{ return('try_cast(' ~ expression ~ ' as ' ~ data_type ~ ')') }}
{% endmacro %}
