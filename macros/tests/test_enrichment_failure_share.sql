{#-
    The latest build of an enrichment model (`model`: review_tags, ticket_tags, review_embeddings), judged from
    its row in enrichment_runs (written by python_jobs.text.runs). Returns up to two rows:
      - 'warn'  when the share of the rows the build tried to enrich that got no good result (failed, timed
                out, quarantined; earlier results kept or not) exceeds var enrichment_fail_warn_share;
      - 'error' when the share of the model's rows left with no result at all (failed or quarantined, no
                earlier good result to keep) exceeds var enrichment_fail_error_share.
    Configure it with warn_if '>0' and error_if '>1': one row warns, two fail the build (an error share above
    its threshold implies a failure share above it too, since every row without a result is retried each build).
-#}
{% test enrichment_failure_share(model) %}
    {%- set runs = adapter.get_relation(
        database=model.database, schema=model.schema, identifier='enrichment_runs'
    ) if execute else none -%}
    {%- if runs is none %}
    select null::varchar as level, null::double as share, null::double as threshold where false
    {%- else %}
    with latest as (
        select *
        from {{ runs }}
        where model_name = '{{ model.identifier }}'
        qualify row_number() over (order by finished_at desc, started_at desc) = 1
    ),

    shares as (
        select
            run_id,
            llm_model,
            rows_attempted,
            rows_attempt_failed,
            rows_without_result,
            source_rows,
            coalesce({{ ratio('rows_attempt_failed', 'rows_attempted') }}, 0) as failure_share,
            coalesce({{ ratio('rows_without_result', 'source_rows') }}, 0) as lost_share
        from latest
    )

    {%- for level, share, threshold in [
        ('warn', 'failure_share', var('enrichment_fail_warn_share')),
        ('error', 'lost_share', var('enrichment_fail_error_share')),
    ] %}
    {{ 'union all' if not loop.first }}
    select
        '{{ level }}' as level,
        {{ share }} as share,
        {{ threshold }} as threshold,
        *
    from shares
    where {{ share }} > {{ threshold }}
    {%- endfor %}
    {%- endif %}
{% endtest %}
