{#-
    A 64-bit integer hash of a whole row (all columns of the relation aliased `relation_alias`): finds exact
    duplicate rows, keys quarantined rows that have no id (cast it to text for that) and sums into snapshot
    fingerprints. Values differ by engine, so nothing compared across engines may depend on them (duplicate
    survivors are chosen by a total order over the columns, macros/duplicate_ranks.sql). DuckDB hashes the row
    struct directly, several times faster than md5 of the row's text on large tables.
-#}
{% macro row_hash(relation_alias) %}
    {{ return(adapter.dispatch('row_hash')(relation_alias)) }}
{% endmacro %}

{% macro default__row_hash(relation_alias) %}
    {{ return("('x' || substr(md5(cast(" ~ relation_alias ~ " as text)), 1, 16))::bit(64)::bigint") }}
{% endmacro %}

{% macro duckdb__row_hash(relation_alias) %}
    {{ return('hash(' ~ relation_alias ~ ')') }}
{% endmacro %}

{% macro spark__row_hash(relation_alias) %}
    {{ return('xxhash64(struct(' ~ relation_alias ~ '.*))') }}
{% endmacro %}

{#- The type row_hash returns (a typed null of it marks rows that have no raw row). -#}
{% macro row_hash_type() %}
    {{ return(adapter.dispatch('row_hash_type')()) }}
{% endmacro %}

{% macro default__row_hash_type() %}
    {{ return('bigint') }}
{% endmacro %}

{% macro duckdb__row_hash_type() %}
    {{ return('ubigint') }}
{% endmacro %}
