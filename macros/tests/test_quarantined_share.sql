{#-
    Warns when too much of one raw table lands in quarantine (a silent failure otherwise: a 2% unparseable
    export still builds). Applied to a base_* model (one row per raw row, quarantine_reason null = staged);
    returns one row (the table's raw rows, quarantined rows and share, its most common reason) when the
    quarantined share exceeds var('quarantine_warn_share'). `ignore_reasons` are filters by design (e.g.
    Online Retail's cancellations and guest sales), not bad data, and do not count.
    Set `config: {severity: warn}` where it is applied.
-#}
{% test quarantined_share(model, source_table, ignore_reasons=[]) %}
    {%- set ignored -%}
        {%- if ignore_reasons -%}
            quarantine_reason in ('{{ ignore_reasons | join("', '") }}')
        {%- else -%}
            false
        {%- endif -%}
    {%- endset %}
    with rows as (
        select
            quarantine_reason,
            quarantine_reason is not null and not ({{ ignored }}) as is_quarantined
        from {{ model }}
    ),

    top_reason as (
        select quarantine_reason
        from rows
        where is_quarantined
        group by quarantine_reason
        order by count(*) desc, quarantine_reason
        limit 1
    )

    select
        '{{ source_table }}' as source_table,
        count(*) as raw_rows,
        sum(case when rows.is_quarantined then 1 else 0 end) as quarantined_rows,
        sum(case when rows.is_quarantined then 1.0 else 0.0 end) / count(*) as quarantined_share,
        (select quarantine_reason from top_reason) as top_reason
    from rows
    having
        count(*) > 0
        and sum(case when rows.is_quarantined then 1.0 else 0.0 end) / count(*)
        > {{ var('quarantine_warn_share', 0.02) }}
{% endtest %}
