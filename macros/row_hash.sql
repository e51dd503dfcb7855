{#-
    Hash of a whole row (all columns of the relation aliased `relation_alias`), as text: finds exact duplicate
    rows and keys quarantined rows that have no id. DuckDB hashes the row struct directly (64-bit, no text cast),
    which is several times faster than md5 of the row's text on large tables.
-#}
{% macro row_hash(relation_alias) %}
    {{ return(adapter.dispatch('row_hash')(relation_alias)) }}
{% endmacro %}

{% macro default__row_hash(relation_alias) %}
    {{ return('md5(cast(' ~ relation_alias ~ ' as text))') }}
{% endmacro %}

{% macro duckdb__row_hash(relation_alias) %}
    {{ return('cast(hash(' ~ relation_alias ~ ') as varchar)') }}
{% endmacro %}
