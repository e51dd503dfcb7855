{#-
    Incremental base staging (issue 10): a nightly export repeats almost every raw row of the night before, so a
    base model (macros/checked_source_rows.sql) restages only the raw rows whose outcome can have changed.

    A row's outcome depends on its own raw values, on the other raw rows with its key (which copy survives) and on
    its parent (orphan check). So the unit of work is a key group: every row with one key; rows without a key
    form one group, '_row:' (with a key '_row:', if a shop has one). A group is restaged when
      - its multiset of raw rows changed (a row added, removed or corrected: a row hash counted differently in
        the raw file and in the stored rows; changed_row_hashes),
      - a stored row's staging version differs (other meta.staging, settings or model code),
      - a stored row's orphan status no longer holds (its parent row appeared or vanished), or
      - a stored row failed a check that reads {max_valid_date} while that is today's date (it moves every day).
    Its stored rows are deleted and its raw rows staged again (strategy replace_key_groups below); a group whose
    raw rows all vanished is carried by one marker row (no raw_row_hash) that deletes it and is not inserted.
    A change to a macro needs --full-refresh, as for the snapshot marts.
-#}

{#- Config of a base staging model. Spark (Parquet tables, no delete) rebuilds the table. -#}
{% macro staging_incremental_config() %}
    {{ return(adapter.dispatch('staging_incremental_config')()) }}
{% endmacro %}

{% macro default__staging_incremental_config() %}
    {{ config(
        materialized='incremental', incremental_strategy='replace_key_groups', on_schema_change='append_new_columns'
    ) }}
{% endmacro %}

{% macro spark__staging_incremental_config() %}
    {{ config(materialized='table') }}
{% endmacro %}

{#- The key group of a raw row from its typed key, and of a staged row from its row_key and raw_row_hash (a row
    without a key has row_key '_row:' + its hash; a marker row has neither). -#}
{% macro staging_key_group(typed_key) %}
    {{ return("coalesce(" ~ typed_key ~ ", '_row:')") }}
{% endmacro %}

{% macro staging_row_group(row_key, row_hash) %}
    {{ return("case when " ~ row_key ~ " is null or " ~ row_key ~ " = '_row:' || cast(" ~ row_hash ~ " as "
        ~ dbt.type_string() ~ ") then '_row:' else " ~ row_key ~ " end") }}
{% endmacro %}

{#- The hint for a CTE that is read more than once but is cheaper to scan again than to hold: `built`, one row per
    staged row (26M sessions at 1M customers), which DuckDB would materialize. Streamed (with raw_hashes carrying
    the raw key), the sessions query of a day of new rows held 1.6 GB instead of 2.7 GB, and beside order_items
    under memory_limit 5GB the pair spilled less: 50 s instead of 81 s (docs/benchmarks, session 19). -#}
{% macro streamed_cte() %}
    {{ return(adapter.dispatch('streamed_cte')()) }}
{% endmacro %}

{% macro default__streamed_cte() %}
    {{ return('') }}
{% endmacro %}

{% macro duckdb__streamed_cte() %}
    {{ return('not materialized') }}
{% endmacro %}

{#- The raw rows (every raw column, nothing else: keyed hashes them) whose key group is pending. DuckDB turns the
    key group's nullif(trim(key), '') into a CASE that trims twice when it is a filter, once when it is a
    projection: 1M customers' 26M raw sessions, one thread, 4.2 s -> 2.7 s. -#}
{% macro pending_raw_rows(raw_relation, key_group) %}
    {{ return(adapter.dispatch('pending_raw_rows')(raw_relation, key_group)) }}
{% endmacro %}

{% macro default__pending_raw_rows(raw_relation, key_group) %}
    select * from {{ raw_relation }} as source
    where {{ key_group }} in (select _key_group from pending_groups)
{% endmacro %}

{% macro duckdb__pending_raw_rows(raw_relation, key_group) %}
    select * exclude (_pending_key_group)
    from (
        select
            source.*,
            {{ key_group }} as _pending_key_group
        from {{ raw_relation }} as source
    ) as source
    where _pending_key_group in (select _key_group from pending_groups)
{% endmacro %}

{#- What a stored row was staged with, besides its raw values: the table's meta.staging, the settings and the
    code of this model and its parents (snapshot_code_version). Not event_time: it says how changes are found,
    not how rows are staged, so declaring it restages nothing. -#}
{% macro staging_version(spec) %}
    {%- set staged_by = {} -%}
    {%- for name, value in spec.items() if name != 'event_time' -%}
        {%- do staged_by.update({name: value}) -%}
    {%- endfor -%}
    {{ return(local_md5(tojson(staged_by) ~ '|' ~ snapshot_code_version())) }}
{% endmacro %}

{#- The bucket (column _bucket) a row's hash is summed into by changed_row_hashes. A table with
    meta.staging.event_time buckets by the row's day: a night's new and corrected rows fall on a few recent days,
    so only those days are compared hash by hash, and a few hundred days group far faster than 2^20 hash buckets
    (1M customers' 25.8M sessions, one thread, CPU s: raw side 2.5-3.0 against 6.4-9.1, stored side 0.3-0.4
    against 4.4-5.1). Otherwise the top 20 bits of the hash. Either way the bucket is a function of the raw row,
    the same in the raw file and in its stored row; a null day gets a sentinel, since `in` never matches null. -#}
{% macro staging_bucket(event_time, row_hash) %}
    {%- if event_time -%}
        {{ return("coalesce(cast(" ~ event_time ~ " as date), cast('0001-01-01' as date))") }}
    {%- endif -%}
    {{ return(row_hash ~ ' >> 44') }}
{% endmacro %}

{#- CTEs changed_buckets and changed_hashes: the row hashes (column _row_hash) that the relations `new_rows` and
    `old_rows` hold a different number of times. Grouping 26M distinct hashes costs ~4 s per side, so rows are
    first summed per bucket (column _bucket, staging_bucket: count and sum of hashes, which any change of the
    bucket's multiset moves unless hashes collide), and only the buckets that differ are compared hash by hash. -#}
{% macro changed_row_hashes(new_rows, old_rows) %}
changed_buckets as (
    select coalesce(new_buckets._bucket, old_buckets._bucket) as _bucket
    from (
        select _bucket, count(*) as n, sum(_row_hash) as hash_sum
        from {{ new_rows }} group by _bucket
    ) as new_buckets
    full outer join (
        select _bucket, count(*) as n, sum(_row_hash) as hash_sum
        from {{ old_rows }} group by _bucket
    ) as old_buckets on new_buckets._bucket = old_buckets._bucket
    where new_buckets.n is distinct from old_buckets.n or new_buckets.hash_sum is distinct from old_buckets.hash_sum
),

changed_hashes as (
    select coalesce(new_counts._row_hash, old_counts._row_hash) as _row_hash
    from (
        select _row_hash, count(*) as n from {{ new_rows }}
        where _bucket in (select _bucket from changed_buckets)
        group by _row_hash
    ) as new_counts
    full outer join (
        select _row_hash, count(*) as n from {{ old_rows }}
        where _bucket in (select _bucket from changed_buckets)
        group by _row_hash
    ) as old_counts on new_counts._row_hash = old_counts._row_hash
    where new_counts.n is distinct from old_counts.n
)
{% endmacro %}

{#- Incremental strategy: replace every key group that the new rows (and markers) name. Rows staged before
    incremental staging (no staging_version) are all replaced: every group is pending then. -#}
{% macro get_incremental_replace_key_groups_sql(arg_dict) %}
    {%- set target, source = arg_dict['target_relation'], arg_dict['temp_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set keyless = run_query("select count(*) from " ~ source ~ " where "
        ~ staging_row_group('row_key', 'raw_row_hash') ~ " = '_row:'").columns[0].values()[0] -%}
    delete from {{ target }}
    where
        staging_version is null
        or row_key in (select row_key from {{ source }})
        {%- if keyless > 0 %}
        or {{ staging_row_group('row_key', 'raw_row_hash') }} = '_row:'
        {%- endif %};
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }} where raw_row_hash is not null;
    {{ record_restaged_keys(source, target, keyless > 0) }}
{% endmacro %}
