{#- The snapshots this build computes (pending_snapshots) with the behaviour marts' windows, defined once: the
    first instant of each snapshot T's lookback and of its last 30 / 90 / 180 days (a window is [start, T)). -#}
{% macro pending_snapshot_windows() %}
    select
        pending.snapshot_date,
        pending.inputs_fingerprint,
        {{ dbt.dateadd('day', -var('lookback_days'), 'pending.snapshot_date') }} as lookback_start_at,
        {{ dbt.dateadd('day', -30, 'pending.snapshot_date') }} as start_30d_at,
        {{ dbt.dateadd('day', -90, 'pending.snapshot_date') }} as start_90d_at,
        {{ dbt.dateadd('day', -180, 'pending.snapshot_date') }} as start_180d_at
    from ({{ pending_snapshots() }}) as pending
{% endmacro %}
