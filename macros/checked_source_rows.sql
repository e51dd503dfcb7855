{#-
    The shared shape of a base staging model: every raw row of `source_name`.`table_name`, typed, with its
    quarantine reason (null = staged). What differs per table is declared once, in the source table's
    `meta.staging` (the sources YAML):

      key             the id column (row_key = the id, or '_row:' + the row hash when the id is null)
      survivor_order  how conflicting copies of a key are ranked (duplicate_ranks): the first survives
      row_checks      ordered [condition, reason] pairs, tested after 'unparseable_value', first match wins;
                      '{max_valid_date}' in a condition stands for max_valid_date()
      columns         the staged select list, over the typed (and redacted) raw columns; like row_checks, each
                      item is rendered there, so it may call macros, written inside {% raw %}...{% endraw %} in the YAML
                      (dbt renders source meta at parse time, before macros exist)
      parent          optional {column, reason}: rows whose `column` is not in the `parent` model (passed here as
                      ref(...), so dbt sees the dependency when parsing) are quarantined with `reason` (after the
                      duplicate checks)
      event_time      optional: the required date or timestamp column that says when a row happened, staged as it
                      is; incremental staging then compares raw and stored rows day by day (staging_bucket), so a
                      night's new and corrected rows, which fall on a few recent days, are found without grouping
                      every row
      text_columns    free-text columns: redacted (redact_text, python_jobs/text/redact.py rules) before anything
                      is stored, truncated to var max_text_chars, with is_text_truncated; a name listed in `columns`
                      is replaced by its redacted, truncated text (row_checks see the raw value)

    Reasons in order: unparseable_value, the row_checks, duplicate_row, duplicate_id, the parent's reason.
    Usage, a whole base model: {{ checked_source_rows('synthetic', 'orders', ref('stg_synthetic__customers')) }}
    The model is incremental by key group (macros/staging_incremental.sql): each row keeps its raw row hash and
    staging version, and a build restages only the key groups whose raw rows, parent or version changed.
-#}
{% macro checked_source_rows(source_name, table_name, parent=none) %}
{{- staging_incremental_config() -}}
{%- if not execute -%}
    {#- The graph (and so the sources' meta) is there at run time only; parsing needs just the dependencies. -#}
    {{ return('select * from ' ~ source_or_empty(source_name, table_name)) }}
{%- endif -%}
{%- set node = source_node(source_name, table_name) -%}
{%- set spec = node.meta.get('staging') -%}
{%- if not spec -%}
    {{ exceptions.raise_compiler_error("Source " ~ source_name ~ "." ~ table_name ~ " has no meta.staging") }}
{%- endif -%}
{%- if (parent is none) != (spec.get('parent') is none) -%}
    {{ exceptions.raise_compiler_error("Source " ~ source_name ~ "." ~ table_name ~ ": pass its parent model "
        ~ "exactly when meta.staging declares a parent (" ~ spec.get('parent') ~ ")") }}
{%- endif -%}
{%- set key = spec.key -%}
{%- set text_columns = spec.get('text_columns', []) -%}
{%- set parent_check = spec.get('parent') -%}
{%- if parent_check and parent_check.column not in spec.columns -%}
    {{ exceptions.raise_compiler_error("Source " ~ source_name ~ "." ~ table_name ~ ": meta.staging.columns must "
        ~ "stage the parent column '" ~ parent_check.column ~ "' as it is (incremental staging rechecks it)") }}
{%- endif -%}
{%- set event_time = spec.get('event_time') -%}
{%- set event_column = node.columns.get(event_time) if event_time else none -%}
{%- if event_time and not (event_time in spec.columns and event_time in node.meta.get('required_columns', [])
    and event_column and (event_column.data_type or '') | lower in ('date', 'timestamp')) -%}
    {{ exceptions.raise_compiler_error("Source " ~ source_name ~ "." ~ table_name ~ ": meta.staging.event_time '"
        ~ event_time ~ "' must be a required date or timestamp column that meta.staging.columns stages as it is "
        ~ "(incremental staging compares raw and stored rows by its day)") }}
{%- endif -%}
{%- set row_checks = [] -%}
{%- set dated_reasons = [] -%}
{%- for check in spec.row_checks -%}
    {%- do row_checks.append([render(check[0] | replace('{max_valid_date}', max_valid_date())), check[1]]) -%}
    {%- if '{max_valid_date}' in check[0] -%}{%- do dated_reasons.append(check[1]) -%}{%- endif -%}
{%- endfor -%}
{%- set max_chars = var('max_text_chars', 8000) -%}
{%- set version = staging_version(spec) -%}
{%- set incremental = is_incremental() -%}
{%- set versioned = incremental and 'staging_version' in built_column_names() -%}
{%- set typed_key = typed_source_columns(source_name, table_name, 'source', only=[key]) -%}
{#- typed_key reads source.<key> unless the file lacks the key column (then it is a typed null) -#}
{%- set raw_key_present = incremental and ('source.' ~ key) in typed_key -%}
{#- resolved once: it looks for the file (and logs a missing optional one) each time it is called -#}
{%- set raw_relation = source_or_empty(source_name, table_name) -%}
with

{%- if incremental %}

raw_hashes as (
    -- each raw row's hash and bucket, with its raw key: changed_groups types the keys of changed rows alone
    select
        _row_hash,
        {{ staging_bucket('_event_time' if event_time else none, '_row_hash') }} as _bucket
        {%- if raw_key_present %},
        {{ key }}
        {%- endif %}
    from (
        select
            {{ row_hash('source') }} as _row_hash
            {%- if event_time %},
            {{ typed_source_columns(source_name, table_name, 'source', only=[event_time]) }} as _event_time
            {%- endif %}
            {%- if raw_key_present %},
            source.{{ key }}
            {%- endif %}
        from {{ raw_relation }} as source
    ) as source
),

{%- set built_hash = 'raw_row_hash' if versioned else 'cast(null as ' ~ row_hash_type() ~ ')' %}

built as {{ streamed_cte() }} (
    select
        {{ built_hash }} as _row_hash,
        {{ staging_bucket((event_time if versioned else 'null') if event_time else none, built_hash) }} as _bucket,
        row_key,
        {{ 'staging_version' if versioned else 'cast(null as ' ~ dbt.type_string() ~ ')' }} as _version,
        {%- if parent %}
        {{ parent_check.column }} as _parent_value,
        {%- endif %}
        quarantine_reason
    from {{ this }}
),

{{ changed_row_hashes('raw_hashes', 'built') }},

changed_groups as (
    -- the groups of every raw row added, removed or corrected
    select {{ staging_key_group(typed_key) }} as _key_group
    from raw_hashes as source
    where _row_hash in (select _row_hash from changed_hashes)
    union
    select {{ staging_row_group('row_key', '_row_hash') }} from built
    where _row_hash in (select _row_hash from changed_hashes)
),

rechecked_groups as (
    -- groups with an unchanged raw row whose outcome may differ now
    select {{ staging_row_group('built.row_key', 'built._row_hash') }} as _key_group
    from built
    {%- if parent %}
    left join {{ parent }} as parent on built._parent_value = parent.{{ parent_check.column }}
    {%- endif %}
    where
        built._version is distinct from '{{ version }}'
        {%- if parent %}
        or (built.quarantine_reason is null and parent.{{ parent_check.column }} is null)
        or (built.quarantine_reason = '{{ parent_check.reason }}' and parent.{{ parent_check.column }} is not null)
        {%- endif %}
        {%- if dated_reasons and var('max_valid_date', none) is none %}
        or built.quarantine_reason in ('{{ dated_reasons | join("', '") }}')
        {%- endif %}
),

pending_groups as (
    select _key_group from changed_groups
    union
    select _key_group from rechecked_groups
),

{%- endif %}

source as (
    {%- if incremental %}
    {{ pending_raw_rows(raw_relation, staging_key_group(typed_key)) }}
    {%- else %}
    select * from {{ raw_relation }} as source
    {%- endif %}
),

keyed as (
    -- each raw row's hash and typed key, computed before typing: the duplicate checks split the rows by key
    select
        {{ row_hash('source') }} as _row_hash,
        {{ typed_key }} as _typed_key,
        source.*
    from source
),

repeated_keys as (
    -- Most keys occur once. Only rows whose key repeats need the duplicate ranking (a window, i.e. a sort of
    -- every row); the others are their key's only row, rank 1. A hash aggregate finds them.
    select _typed_key as _repeated_key
    from keyed
    group by _typed_key
    having count(*) > 1
),

unique_rows as (
    {{ checked_typed_rows(source_name, table_name, row_checks, 'not exists') }}
    {%- if incremental %}
    union all
    -- a pending group with no raw row left: one marker row (no row hash) deletes its stored rows; its key is no
    -- raw row's, so it is unique, and it is never inserted, so it needs no checks
    select
        {%- for col in node.columns.values() %}
        {%- if col.name == key %}
        cast(nullif(pending_groups._key_group, '_row:') as {{ portable_type(col.data_type) }}) as {{ col.name }},
        {%- else %}
        cast(null as {{ portable_type(col.data_type) }}) as {{ col.name }},
        {%- endif %}
        {%- endfor %}
        cast(null as {{ dbt.type_string() }}) as _unparseable_columns,
        cast(null as {{ row_hash_type() }}) as _row_hash,
        cast(null as {{ dbt.type_string() }}) as _row_reason
    from pending_groups
    where not exists (
        select 1 from keyed
        where {{ staging_key_group('keyed._typed_key') }} = pending_groups._key_group
    )
    {%- endif %}
),

ranked as (
    -- Each raw row is typed and checked in one branch only: typed before the split, every row was typed twice
    -- (full refresh of the 1M world's 25.8M sessions, one thread: median 47.0 -> 43.0 s CPU, the same rows).
    select
        unique_rows.*,
        1 as _copy_number,
        cast(1 as bigint) as _id_rank
    from unique_rows
    union all
    select
        repeated_rows.*,
        {{ duplicate_ranks(key, spec.survivor_order, node.columns.keys() | list) }}
    from ({{ checked_typed_rows(source_name, table_name, row_checks, 'exists') }}) as repeated_rows
),

{%- if parent %}

parent as (
    select {{ parent_check.column }} from {{ parent }}
),

{%- endif %}

checked as (
    select
        ranked.*,
        coalesce(
            ranked._row_reason,
            case
                when ranked._copy_number > 1 then 'duplicate_row'
                when ranked._id_rank > 1 then 'duplicate_id'
                {%- if parent %}
                when parent.{{ parent_check.column }} is null then '{{ parent_check.reason }}'
                {%- endif %}
            end
        ) as _quarantine_reason
    from ranked
    {%- if parent %}
    left join parent on ranked.{{ parent_check.column }} = parent.{{ parent_check.column }}
    {%- endif %}
),

redacted as (
    -- after the checks, which see the raw text; once per row (the 1M world's support tickets: 4.8 s, one thread)
    select
        {%- for column in text_columns %}
        {{ redact_text('checked.' ~ column) }} as {{ column }}_redacted,
        {%- endfor %}
        checked.*
    from checked
)

select
    {%- for column in spec.columns %}
    {%- if column in text_columns %}
    left({{ column }}_redacted, {{ max_chars }}) as {{ column }},
    {%- else %}
    {{ render(column) }},
    {%- endif %}
    {%- endfor %}
    {%- if text_columns %}
    coalesce(
        {%- for column in text_columns %}
        length({{ column }}_redacted) > {{ max_chars }}{{ ' or' if not loop.last }}
        {%- endfor %}, false
    ) as is_text_truncated,
    {%- endif %}
    coalesce({{ key }}, '_row:' || cast(_row_hash as {{ dbt.type_string() }})) as row_key,
    _unparseable_columns as quarantine_detail,
    _quarantine_reason as quarantine_reason,
    _row_hash as raw_row_hash,
    '{{ version }}' as staging_version
from redacted
{% endmacro %}

{#- The typed, checked rows of `keyed` whose key does (`exists`) or does not (`not exists`) repeat: typed columns,
    _unparseable_columns, _row_hash, and _row_reason (unparseable_value, then the row_checks in order). -#}
{% macro checked_typed_rows(source_name, table_name, row_checks, repeats) %}
    select
        *,
        case
            when _unparseable_columns is not null then 'unparseable_value'
            {%- for check in row_checks %}
            when {{ check[0] }} then '{{ check[1] }}'
            {%- endfor %}
        end as _row_reason
    from (
        select
            {{ typed_source_columns(source_name, table_name, 'source') }},
            source._row_hash
        from keyed as source
        where {{ repeats }} (
            select 1 from repeated_keys
            where repeated_keys._repeated_key is not distinct from source._typed_key
        )
    ) as typed
{% endmacro %}
