{#-
    Select list casting every column of a raw source table to its contract type (sources YAML `data_type`):
    varchar columns are trimmed with empty strings turned into null; other types use a safe cast, and
    `_unparseable_columns` names the columns whose non-null raw value could not be cast (null when all parse).
    `relation_alias` is the alias of the raw relation in the FROM clause.
    A contract column missing from the file becomes a typed null (logged), so shops map only what they have;
    unless it is listed in the table's meta.required_columns, which stops the run with a clear message.
    `only`: type just these columns and return their bare expressions (no alias, no `_unparseable_columns`).
-#}
{% macro typed_source_columns(source_name, table_name, relation_alias, only=none) %}
    {%- if not execute -%}
        {{ return(relation_alias ~ '.*, cast(null as ' ~ dbt.type_string() ~ ') as _unparseable_columns') }}
    {%- endif -%}
    {%- set node = source_node(source_name, table_name) -%}
    {%- set present = source_columns(source_name, table_name) -%}
    {%- set select_list = [] -%}
    {%- set checks = [] -%}
    {%- set expressions = [] -%}
    {%- for col in node.columns.values() if only is none or col.name in only -%}
        {%- set raw = relation_alias ~ '.' ~ col.name -%}
        {%- if present is not none and col.name | lower not in present -%}
            {%- if col.name in node.meta.get('required_columns', []) -%}
                {{ exceptions.raise_compiler_error("Raw table '" ~ table_name ~ "' at '"
                    ~ source_location(source_name, table_name) ~ "' lacks required column '" ~ col.name
                    ~ "' (found: " ~ (present | join(', ')) ~ ").") }}
            {%- endif -%}
            {{ log("raw table " ~ table_name ~ " has no column " ~ col.name ~ ": using null", info=True) }}
            {%- set raw = 'cast(null as ' ~ portable_type(col.data_type) ~ ')' -%}
        {%- endif -%}
        {%- if col.data_type | lower == 'varchar' -%}
            {%- set typed = "nullif(trim(cast(" ~ raw ~ " as " ~ dbt.type_string() ~ ")), '')" -%}
        {%- else -%}
            {%- set typed = try_cast_sql(raw, portable_type(col.data_type)) -%}
            {%- do checks.append("coalesce(case when " ~ raw ~ " is not null and " ~ typed ~ " is null then '"
                ~ col.name ~ " ' end, '')") -%}
        {%- endif -%}
        {%- do expressions.append(typed) -%}
        {%- do select_list.append(typed ~ ' as ' ~ col.name) -%}
    {%- endfor -%}
    {%- if only is not none -%}
        {{ return(expressions | join(', ')) }}
    {%- endif -%}
    {%- if checks -%}
        {%- do select_list.append("nullif(trim(" ~ checks | join(' || ') ~ "), '') as _unparseable_columns") -%}
    {%- else -%}
        {%- do select_list.append('cast(null as ' ~ dbt.type_string() ~ ') as _unparseable_columns') -%}
    {%- endif -%}
    {{ return(select_list | join(',\n        ')) }}
{% endmacro %}
