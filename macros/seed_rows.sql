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
    {{ return(adapter.dispatch('seed_rows')(seed_name, columns)) }}
{% endmacro %}

{#- Unit tests compile without the graph, so without the seed's path: there the list is empty. -#}
{% macro duckdb__seed_rows(seed_name, columns) %}
    {%- set seeds = (graph.get('nodes') or {}).values() | selectattr('resource_type', 'equalto', 'seed')
        | selectattr('name', 'equalto', seed_name) | list -%}
    {%- if not seeds -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set path = seeds[0].root_path ~ '/' ~ seeds[0].original_file_path -%}
    {{ return(run_query(
        "select " ~ columns | join(', ') ~ " from read_csv('" ~ path ~ "', header = true, all_varchar = true)"
    ).rows) }}
{% endmacro %}

{% macro default__seed_rows(seed_name, columns) %}
    {{ return(run_query("select " ~ columns | join(', ') ~ " from " ~ ref(seed_name)).rows) }}
{% endmacro %}
