{#-
    Two window columns that split duplicates, for staging quarantine logic:
    `_copy_number` > 1 marks an exact copy of the previous identical raw row (reason duplicate_row);
    `_id_rank` > 1 marks a different row reusing a key already taken by a better row (reason duplicate_id).
    One window per key, rows that passed the row-level checks (`_row_reason is null`) first, then `order_by` (the
    survivor order), then every contract column (`tie_columns`): a total order over the staged values, so every
    engine keeps the same survivor (a row hash would differ by engine). Nulls sort last everywhere (engines differ
    in the default). Identical copies are adjacent (the same hash last), so exactly one copy survives.
-#}
{% macro duplicate_ranks(key_column, order_by, tie_columns) %}
    {%- set keys = [] -%}
    {%- for column in (order_by.split(',') | map('trim') | list) + tie_columns -%}
        {%- do keys.append(column ~ ' nulls last') -%}
    {%- endfor -%}
    {%- set w = 'partition by ' ~ key_column ~ ' order by (_row_reason is null) desc, ' ~ keys | join(', ')
        ~ ', _row_hash' -%}
    case
        when row_number() over ({{ w }}) > 1 and lag(_row_hash) over ({{ w }}) = _row_hash then 2 else 1
    end as _copy_number,
    row_number() over ({{ w }}) as _id_rank
{% endmacro %}
