{#-
    Lower-cased column names present in a source table's file, or none when the file is absent
    (execute time only; DuckDB describe through run_query).
-#}
{% macro source_file_columns(source_name, table_name) %}
    {%- set location = source_location(source_name, table_name) -%}
    {%- set found = run_query("select count(*) from glob('" ~ location ~ "')").columns[0].values()[0] -%}
    {%- if found == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set described = run_query("describe select * from '" ~ location ~ "'") -%}
    {{ return(described.columns[0].values() | map('lower') | list) }}
{% endmacro %}
