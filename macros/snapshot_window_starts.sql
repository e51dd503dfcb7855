{#- The behaviour marts' windows, defined once: for each snapshot T in `snapshots` (a CTE with snapshot_date),
    the first instant of its lookback and of its last 30 / 90 / 180 days (a window is [start, T)). -#}
{% macro snapshot_window_starts(snapshots) %}
    select
        snapshot_date,
        {{ dbt.dateadd('day', -var('lookback_days'), 'snapshot_date') }} as lookback_start_at,
        {{ dbt.dateadd('day', -30, 'snapshot_date') }} as start_30d_at,
        {{ dbt.dateadd('day', -90, 'snapshot_date') }} as start_90d_at,
        {{ dbt.dateadd('day', -180, 'snapshot_date') }} as start_180d_at
    from {{ snapshots }}
{% endmacro %}
