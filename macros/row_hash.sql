{#- Hash of a whole row (all columns of the relation aliased `relation_alias`): finds exact duplicate rows. -#}
{% macro row_hash(relation_alias) %}
    {{ return(adapter.dispatch('row_hash')(relation_alias)) }}
{% endmacro %}

{% macro default__row_hash(relation_alias) %}
    {{ return('md5(cast(' ~ relation_alias ~ ' as text))') }}
{% endmacro %}

{% macro duckdb__row_hash(relation_alias) %}
    {{ return('md5(cast(' ~ relation_alias ~ ' as varchar))') }}
{% endmacro %}
