{#-
    Two window columns that split duplicates, for staging quarantine logic:
    `_copy_number` > 1 marks an exact copy of an earlier identical raw row (reason duplicate_row);
    `_id_rank` > 1 marks a different row reusing a key already taken by a better row (reason duplicate_id).
    Ranks are computed among rows that passed the row-level checks (`_row_reason is null`), so a bad row never
    displaces a good one; dense_rank gives identical copies the same rank, so exactly one copy survives.
-#}
{% macro duplicate_ranks(key_column, order_by) %}
    row_number() over (partition by _row_hash order by _row_hash) as _copy_number,
    dense_rank() over (
        partition by {{ key_column }}, (_row_reason is null) order by {{ order_by }}, _row_hash
    ) as _id_rank
{% endmacro %}
