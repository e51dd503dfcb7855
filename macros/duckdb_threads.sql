{#-
    on-run-start: DuckDB's threads for this invocation. The cores are shared among dbt's threads (target.threads,
    which `--threads` sets): DuckDB's default is a thread per core for every node, so two dbt threads running two
    nodes would share the cores four ways. On 2 cores, the SQL models alone at 1M customers took 498 s CPU with one
    DuckDB thread per dbt thread against 548 s with two (300k: 157 s against 159 s), for 9 % more wall time
    (docs/benchmarks/2026-12-05-session42.md); a 1M nightly 110-111 s against 113-128 s. Env CHURN_DUCKDB_THREADS
    sets them instead.

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
