{#-
    Rows of a seed (selected `columns`) at compile time, so a seed can be the one place a list lives (the churn
    features, the complaint topics). Empty at parse time (no database). DuckDB reads the seed's CSV file itself,
    so compiling needs no loaded seed; other adapters query the seed table (the calling model then needs a
    `-- depends_on: {{ ref('<seed>') }}` hint). Values are strings; rows keep the file's order on DuckDB.
-#}
{% macro seed_rows(seed_name, columns) %}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {{ return(adapter.dispatch('seed_rows')(seed_name, columns).rows) }}
{% endmacro %}

{% macro duckdb__seed_rows(seed_name, columns) %}
    {%- set seed = graph.nodes.values() | selectattr('resource_type', 'equalto', 'seed')
        | selectattr('name', 'equalto', seed_name) | first -%}
    {%- set path = seed.root_path ~ '/' ~ seed.original_file_path -%}
    {{ return(run_query(
        "select " ~ columns | join(', ') ~ " from read_csv('" ~ path ~ "', header = true, all_varchar = true)"
    )) }}
{% endmacro %}

{% macro default__seed_rows(seed_name, columns) %}
    {{ return(run_query("select " ~ columns | join(', ') ~ " from " ~ ref(seed_name))) }}
{% endmacro %}
