{#-
    Hash of a whole row (all columns of the relation aliased `relation_alias`): finds exact duplicate rows and keys
    quarantined rows that have no id (cast it to text for that). DuckDB hashes the row struct directly (64-bit
    integer, no text cast), several times faster than md5 of the row's text on large tables.
-#}
{% macro row_hash(relation_alias) %}
    {{ return(adapter.dispatch('row_hash')(relation_alias)) }}
{% endmacro %}

{% macro default__row_hash(relation_alias) %}
    {{ return('md5(cast(' ~ relation_alias ~ ' as text))') }}
{% endmacro %}

{% macro duckdb__row_hash(relation_alias) %}
    {{ return('hash(' ~ relation_alias ~ ')') }}
{% endmacro %}
