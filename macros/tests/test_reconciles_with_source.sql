{#-
    Nothing lost in staging: raw rows = staged rows + quarantined rows for one raw table.
    Applied to a staging model; `quarantine_model` holds (source_table, row_key, reason).
-#}
{% test reconciles_with_source(model, source_name, table_name, quarantine_model, staged_rows_model=none) %}
    with raw_rows as (
        select count(*) as n from {{ source_or_empty(source_name, table_name) }}
    ),

    staged_rows as (
        select count(*) as n from {{ staged_rows_model or model }}
    ),

    quarantined_rows as (
        select count(*) as n from {{ quarantine_model }} where source_table = '{{ table_name }}'
    )

    select
        raw_rows.n as raw_rows,
        staged_rows.n as staged_rows,
        quarantined_rows.n as quarantined_rows
    from raw_rows
    cross join staged_rows
    cross join quarantined_rows
    where raw_rows.n != staged_rows.n + quarantined_rows.n
{% endtest %}
