{#-
    on-run-start: DuckDB's threads for this invocation, from env CHURN_DUCKDB_THREADS when it is set (else DuckDB's
    own default, one per core). `churn build` sets it for an incremental build (python_jobs/build.py): there two
    dbt threads run two nodes at a time nearly throughout, and one DuckDB thread per dbt thread keeps the two cores
    from being shared four ways.

    The variable is read only when executing, never while parsing: dbt re-parses the whole project when an
    env var that parsing read has changed, and a full build and a nightly set it differently.
-#}
{% macro duckdb_threads() %}
    {%- set threads = env_var('CHURN_DUCKDB_THREADS', '') if execute else '' -%}
    {%- if target.type != 'duckdb' or not threads -%}
        {{- return('select 1') -}}
    {%- endif -%}
    {%- if not (threads | string).isdigit() or threads | int < 1 -%}
        {{ exceptions.raise_compiler_error("CHURN_DUCKDB_THREADS must be a whole number of threads, at least 1, not '"
            ~ threads ~ "'") }}
    {%- endif -%}
    {{- return('set threads = ' ~ (threads | int)) -}}
{% endmacro %}
