{#-
    Incremental base staging (issue 10): a nightly export repeats almost every raw row of the night before, so a
    base model (macros/checked_source_rows.sql) restages only the raw rows whose outcome can have changed.

    A row's outcome depends on its own raw values, on the other raw rows with its key (which copy survives) and on
    its parent (orphan check). So the unit of work is a key group: every row with one key; rows without a key (or
    with a key that begins with '_row:') form one group, '_row:'. A group is restaged when
      - its multiset of raw rows changed (a row added, removed or corrected: the count of each (row hash, group)
        differs between the raw file and the stored rows),
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

{#- The key group of a key (raw side) or of a stored row_key (null key -> '_row:' + row hash): see above. -#}
{% macro staging_key_group(key) %}
    {{ return("case when " ~ key ~ " is null or substr(" ~ key ~ ", 1, 5) = '_row:' then '_row:' else "
        ~ key ~ " end") }}
{% endmacro %}

{#- What a stored row was staged with, besides its raw values: the table's meta.staging, the settings and the
    code of this model and its parents (snapshot_code_version). -#}
{% macro staging_version(spec) %}
    {{ return(local_md5(tojson(spec) ~ '|' ~ snapshot_code_version())) }}
{% endmacro %}

{#- Incremental strategy: replace every key group that the new rows (and markers) name. -#}
{% macro get_incremental_replace_key_groups_sql(arg_dict) %}
    {%- set target, source = arg_dict['target_relation'], arg_dict['temp_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where {{ staging_key_group('row_key') }} in (
        select {{ staging_key_group('row_key') }} from {{ source }}
    );
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }} where raw_row_hash is not null
{% endmacro %}
