{#-
    Two window columns that split duplicates, for staging quarantine logic:
    `_copy_number` > 1 marks an exact copy of the previous identical raw row (reason duplicate_row);
    `_id_rank` > 1 marks a different row reusing a key already taken by a better row (reason duplicate_id).
    One window per key, rows that passed the row-level checks (`_row_reason is null`) first, so a bad row never
    displaces a good one; identical copies are adjacent (same hash), so exactly one copy survives.
-#}
{% macro duplicate_ranks(key_column, order_by) %}
    {%- set w = 'partition by ' ~ key_column ~ ' order by (_row_reason is null) desc, ' ~ order_by ~ ', _row_hash' -%}
    case
        when row_number() over ({{ w }}) > 1 and lag(_row_hash) over ({{ w }}) = _row_hash then 2 else 1
    end as _copy_number,
    row_number() over ({{ w }}) as _id_rank
{% endmacro %}
