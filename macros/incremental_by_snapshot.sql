{#-
    Incremental snapshot marts (design section 6): a snapshot T's rows read only facts known before T, so they
    change only when those facts change. Each such model stores, per row, the fingerprint of what its snapshot
    was computed from (`inputs_fingerprint`). The model starts with `{{ snapshot_incremental('behaviour') }}`
    (its kind of inputs, below; this sets the incremental config) and drives its query from `pending_snapshots()`
    or `pending_customer_snapshots()`. A build computes only the snapshots whose fingerprint the table does not
    hold (new snapshots; late or corrected data before T; a changed model or setting), replaces them
    (delete+insert by snapshot_date), and drops snapshots that left the spine. `--full-refresh` recomputes
    everything, with the same result.

    kind: 'behaviour' (facts known before T), 'labels' (order facts before T + horizon and whether the horizon
    is observed), see int_snapshot_inputs; or 'voice' (texts before T with their tags, embedding components),
    see voice_snapshot_inputs; or 'training' (all three, the split and the test snapshot: churn_training_set).
    The fingerprint also covers the code of this model and every model and
    seed upstream of it, and the settings below; a change to a macro needs --full-refresh.
-#}
{% macro snapshot_incremental(kind, bucket_on=none) %}
    {{ return(adapter.dispatch('snapshot_incremental')(kind, bucket_on)) }}
{% endmacro %}

{#- bucket_on: build it one range of that column at a time (macros/customer_buckets.sql) -#}
{% macro default__snapshot_incremental(kind, bucket_on) %}
    {{ config(
        materialized='incremental', incremental_strategy='delete+insert', unique_key='snapshot_date',
        on_schema_change='append_new_columns',
        meta={'snapshot_inputs': kind, 'bucket_on': bucket_on},
        pre_hook=["{{ forget_pending_snapshots() }}", "{{ record_pending_snapshots() }}"],
        post_hook="{{ drop_stale_snapshots() }}",
    ) }}
{% endmacro %}

{#- Spark (Parquet tables) has no delete: one partition per snapshot, and a build overwrites the partitions of
    the snapshots it computed (dynamic partition overwrite, set in profiles.yml). -#}
{% macro spark__snapshot_incremental(kind, bucket_on) %}
    {{ config(
        materialized='incremental', incremental_strategy='insert_overwrite', partition_by=['snapshot_date'],
        file_format='parquet', on_schema_change='append_new_columns', meta={'snapshot_inputs': kind},
        post_hook="{{ drop_stale_snapshots() }}",
    ) }}
{% endmacro %}

{#- The kind of inputs this model's snapshots follow, as set by snapshot_incremental; read by the post-hook.
    Config is not resolved while dbt parses or runs unit tests, so a model of another kind than 'behaviour'
    also names it in its pending_snapshots('labels') / pending_customer_snapshots('voice') calls. -#}
{% macro snapshot_kind() %}
    {%- set meta = config.get('meta') -%}
    {{ return(meta.get('snapshot_inputs', 'behaviour') if meta is mapping else 'behaviour') }}
{% endmacro %}

{% macro snapshot_code_version() %}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set seen = [] -%}
    {%- set queue = [model.unique_id] -%}
    {%- set checksums = [] -%}
    {#- breadth-first over the ancestors: the loop also visits ids appended while it runs -#}
    {%- for unique_id in queue -%}
        {%- set node = (graph.get('nodes') or {}).get(unique_id) -%}
        {%- if node and unique_id not in seen -%}
            {%- do seen.append(unique_id) -%}
            {%- do checksums.append(unique_id ~ '=' ~ (node.get('checksum') or {}).get('checksum')) -%}
            {%- for parent in (node.get('depends_on') or {}).get('nodes', []) -%}
                {%- do queue.append(parent) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set settings = [] -%}
    {%- for name in ['lookback_days', 'churn_horizon_days', 'assumed_return_days', 'voice_window_days',
        'max_text_chars', 'max_valid_date', 'source_system'] -%}
        {%- do settings.append(name ~ '=' ~ var(name, none)) -%}
    {%- endfor -%}
    {{ return(local_md5((checksums | sort | join(',')) ~ '|' ~ (settings | join(',')))) }}
{% endmacro %}

{#- One row per snapshot of this kind: snapshot_date, inputs_fingerprint, and replaced_nightly: whether a coming
    nightly build replaces it (the as-of snapshot moves every day; for labels, a snapshot whose horizon is still
    open is replaced the day it closes). A full build writes those last (snapshot_statements). -#}
{% macro snapshot_fingerprints(kind=snapshot_kind()) %}
    {%- if kind == 'training' %}
    {#- the training set joins every mart and the split: all three fingerprints, the split and its test date.
        Only snapshots with a split: the set holds no rows of the others, so they would be pending on every build
        (a 1M nightly read and joined four such snapshots of every mart for nothing). -#}
    select
        inputs.snapshot_date,
        {{ row_fingerprint([
            'inputs.behaviour_fingerprint', 'inputs.labels_fingerprint', 'voice.voice_fingerprint',
            'spine.split', 'cast(spine.eval_snapshot_date as ' ~ dbt.type_string() ~ ')',
        ]) }} as inputs_fingerprint,
        spine.is_as_of as replaced_nightly
    from {{ ref('int_snapshot_inputs') }} as inputs
    inner join {{ ref('voice_snapshot_inputs') }} as voice on inputs.snapshot_date = voice.snapshot_date
    inner join {{ ref('int_snapshot_spine') }} as spine on inputs.snapshot_date = spine.snapshot_date
    where spine.split is not null
    {%- else %}
    select
        snapshot_date,
        {{ row_fingerprint([kind ~ '_fingerprint']) }} as inputs_fingerprint,
        {{ 'not horizon_observed' if kind == 'labels' else 'is_as_of' }} as replaced_nightly
    from {{ ref('voice_snapshot_inputs') if kind == 'voice' else ref('int_snapshot_inputs') }}
    {%- endif %}
{% endmacro %}

{#- The inputs_fingerprint every row of a snapshot carries: its inputs' fingerprints (SQL expressions) and this
    model's code version, hashed to 12 hex digits. DuckDB keeps a string of up to 12 bytes inside the row, so joins,
    windows and inserts over 15M customer snapshots (1M customers) hold it in the row itself; the 65-character
    'md5-md5' it replaces went to each row's heap. 48 bits: a snapshot whose inputs changed keeps its old
    fingerprint with probability 2^-48. -#}
{% macro row_fingerprint(parts) %}
    {{ return("substr(" ~ dbt.hash(dbt.concat(parts + ["'-" ~ snapshot_code_version() ~ "'"])) ~ ", 1, 12)") }}
{% endmacro %}

{#- The snapshots this build computes, with their fingerprints: all of them on a full build, else those whose
    fingerprint the table does not hold (new, changed inputs, or a table built before fingerprints existed). -#}
{% macro pending_snapshots(kind=snapshot_kind()) %}
    select
        fingerprints.snapshot_date,
        fingerprints.inputs_fingerprint
    from ({{ snapshot_fingerprints(kind) }}) as fingerprints
    {%- if is_incremental() and 'inputs_fingerprint' in built_column_names() %}
    where not exists (
        select 1
        from {{ this }} as built
        where
            built.snapshot_date = fingerprints.snapshot_date
            and built.inputs_fingerprint = fingerprints.inputs_fingerprint
    )
    {%- else %}
    where {{ in_snapshot_part('fingerprints.replaced_nightly') }}
    {%- endif %}
{% endmacro %}

{% macro built_column_names() %}
    {{ return(adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list) }}
{% endmacro %}

{#- post_hook: after delete+insert replaced the pending snapshots, delete rows of snapshots that left the spine
    (yesterday's as-of date) or whose recomputation returned no rows. -#}
{% macro drop_stale_snapshots(kind=snapshot_kind()) %}
    {{ return(adapter.dispatch('drop_stale_snapshots')(kind)) }}
{% endmacro %}

{% macro spark__drop_stale_snapshots(kind) %}
    {#- the stale snapshots' partitions are dropped here; the hook itself runs nothing -#}
    {%- if execute and is_incremental() -%}
        {%- set stale = run_query(
            "select distinct cast(snapshot_date as string) from " ~ this ~ " as built where not exists (select 1"
            ~ " from (" ~ snapshot_fingerprints(kind) ~ ") as current_inputs where current_inputs.snapshot_date"
            ~ " = built.snapshot_date and current_inputs.inputs_fingerprint = built.inputs_fingerprint)"
        ).columns[0].values() -%}
        {%- for day in stale -%}
            {%- do run_query("alter table " ~ this ~ " drop if exists partition (snapshot_date = '" ~ day ~ "')") -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}

{#- The stale (snapshot, fingerprint) pairs are found first (a handful), then their rows are deleted: a semi-join
    against them is several times cheaper than an anti-join of every row against the current fingerprints. -#}
{% macro default__drop_stale_snapshots(kind) %}
    {%- if is_incremental() %}
    delete from {{ this }}
    where exists (
        select 1
        from (
            select distinct
                snapshot_date,
                inputs_fingerprint
            from {{ this }}
            except
            select
                snapshot_date,
                inputs_fingerprint
            from ({{ snapshot_fingerprints(kind) }}) as current_inputs
        ) as stale
        where
            stale.snapshot_date = {{ this }}.snapshot_date
            -- rows written before fingerprints existed have none: stale too
            and stale.inputs_fingerprint is not distinct from {{ this }}.inputs_fingerprint
    )
    {%- endif %}
{% endmacro %}

{#- int_customer_snapshots rows of the pending snapshots, with their fingerprint: the driving rows of a
    customer-grain incremental snapshot model. A model that also needs the pending snapshots themselves names
    its CTE of pending_snapshots() in `pending`, so they are worked out once. A bucketed model
    (macros/customer_buckets.sql) names the column it buckets on in `bucket_on`: only the bucket's rows. -#}
{% macro pending_customer_snapshots(kind=snapshot_kind(), pending=none, bucket_on=none) %}
    select
        customer_snapshots.*,
        pending.inputs_fingerprint
    from {{ ref('int_customer_snapshots') }} as customer_snapshots
    inner join {{ pending if pending else '(' ~ pending_snapshots(kind) ~ ')' }} as pending
        on customer_snapshots.snapshot_date = pending.snapshot_date
    {%- if bucket_on %}
    where {{ in_customer_bucket('customer_snapshots.' ~ bucket_on) }}
    {%- endif %}
{% endmacro %}

{#- How many snapshots each customer of `customer_snapshots` (a CTE of pending_customer_snapshots rows) has to
    compute: a model takes a cheaper path for customers with one (a nightly's new as-of date). -#}
{% macro pending_snapshot_counts(customer_snapshots) %}
    select
        customer_id,
        count(*) as pending_snapshots
    from {{ customer_snapshots }}
    group by customer_id
{% endmacro %}
