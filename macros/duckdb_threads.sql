{#-
    on-run-start: DuckDB's threads for this invocation. The cores are shared among dbt's threads (target.threads,
    which `--threads` sets): DuckDB's default is a thread per core for every node, so two dbt threads running two
    nodes would share the cores four ways. On 2 cores at 1M customers, one DuckDB thread per dbt thread took 3-9 %
    less CPU for the SQL models alone (9-15 % more wall: a node running alone has one core), the full build 10 m 47 s
    against 11 m 05 s, a nightly 110-111 s against 113-128 s (docs/benchmarks/2026-12-05-session42.md). Env
    CHURN_DUCKDB_THREADS sets them instead.

    The variable is read only when executing, never while parsing: dbt re-parses the whole project when an
    env var that parsing read has changed.
-#}
{% macro duckdb_threads() %}
    {%- if target.type != 'duckdb' or not execute -%}
        {{- return('select 1') -}}
    {%- endif -%}
    {%- set threads = env_var('CHURN_DUCKDB_THREADS', '') -%}
    {%- if not threads -%}
        {#- reset: the instance may have been set by an earlier invocation in this process -#}
        {%- do run_query('reset threads') -%}
        {%- set cores = run_query("select current_setting('threads')").columns[0].values()[0] | int -%}
        {{- return('set threads = ' ~ [1, cores // target.threads] | max) -}}
    {%- endif -%}
    {%- if not (threads | string).isdigit() or threads | int < 1 -%}
        {{ exceptions.raise_compiler_error("CHURN_DUCKDB_THREADS must be a whole number of threads, at least 1, not '"
            ~ threads ~ "'") }}
    {%- endif -%}
    {{- return('set threads = ' ~ (threads | int)) -}}
{% endmacro %}
