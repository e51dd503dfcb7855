{#-
    Post-hook of churn_training_set (and `dbt run-operation require_history` in `churn check`, after the spine):
    stop with a clear message when the data's history is too short for the chosen horizon to fit a model, i.e. the spine has no evaluation snapshot ('test') or fewer than var('min_train_snapshots')
    training snapshots (their horizons must close by the evaluation snapshot, whose own horizon must close by the
    as-of date). The history named, first order -> last order, is always enough with the spine's defaults: up to
    61 days to the first snapshot (first order + 30 days, rounded up to a month start), (min_train_snapshots - 1)
    snapshot steps of up to 31 days, the training horizon, up to 30 days to the next snapshot (the evaluation one)
    and its horizon: 91 + (min_train_snapshots - 1) * 31 * snapshot_months + 2 * churn_horizon_days days.
-#}
{% macro require_history() %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set horizon = var('churn_horizon_days') | int -%}
    {%- set step = var('snapshot_months') | int -%}
    {%- set min_train = var('min_train_snapshots', 2) | int -%}
    {%- set row = run_query(
        "select sum(case when split = 'train' then 1 else 0 end), sum(case when split = 'test' then 1 else 0 end),"
        ~ " cast(min(snapshot_date) as " ~ dbt.type_string() ~ "), cast(max(snapshot_date) as " ~ dbt.type_string()
        ~ "), cast(max(eval_snapshot_date) as " ~ dbt.type_string() ~ ") from " ~ ref('int_snapshot_spine')
    ).rows[0] -%}
    {%- if row[1] == 0 or row[0] < min_train -%}
        {%- set minimum = 91 + (min_train - 1) * 31 * step + 2 * horizon -%}
        {{ exceptions.raise_compiler_error(
            "Too little history for a " ~ horizon ~ "-day churn horizon: the snapshot spine runs " ~ row[2] ~ ".."
            ~ row[3] ~ " (as-of date) with " ~ row[0] ~ " training snapshot(s) and "
            ~ ("evaluation snapshot " ~ row[4] if row[1] > 0 else "no evaluation snapshot whose horizon is observed")
            ~ "; a model needs at least " ~ min_train ~ " training snapshots (var min_train_snapshots) and an "
            ~ "evaluation snapshot, each with its " ~ horizon ~ "-day horizon observed: with snapshots every "
            ~ step ~ " month(s), " ~ minimum ~ " days from the first to the last order are always enough. "
            ~ "Export more history, or shorten churn_horizon_days (e.g. --vars '{\"churn_horizon_days\": 30}'); "
            ~ "check eval_snapshot_date / train_start_date / train_end_date if you set them."
        ) }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}
