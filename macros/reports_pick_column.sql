{#-
    The first of `candidates` that `relation` has (case-insensitive), or none. Lets a report use an optional
    upstream column (e.g. a sentiment average) without failing when a source system does not provide it.
    Only meaningful at execution time; at parse time it returns none.
-#}
{% macro reports_pick_column(relation, candidates) -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {%- for c in candidates -%}
        {%- if c | lower in names -%}{{ return(c) }}{%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro %}
