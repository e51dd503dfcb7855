{#- The graph node of a source table (execute time only). -#}
{% macro source_node(source_name, table_name) %}
    {%- for node in graph.sources.values() -%}
        {%- if node.source_name == source_name and node.name == table_name -%}
            {{ return(node) }}
        {%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("Unknown source " ~ source_name ~ "." ~ table_name) }}
{% endmacro %}
