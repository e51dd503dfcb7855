{#- on-run-start: drop the build record (main.churn_build_state, python_jobs/build_state.py TABLE) before dbt
    writes any table, so a plain `dbt build`, `--select` or `--vars` run can never leave a warehouse that a later
    `churn build` takes for unchanged. DuckDB only: other targets keep no record. -#}
{% macro forget_build_state() %}
    {%- if target.type == 'duckdb' and flags.WHICH in ('build', 'run', 'seed', 'snapshot') -%}
        drop table if exists main.churn_build_state
    {%- else -%}
        select 1
    {%- endif -%}
{% endmacro %}
