{#-
    A raw source table, or an empty relation of the same shape when its file is absent.

    Checks at run time (source_columns) whether the source's file (DuckDB) or table (other engines) exists.
    Optional tables (everything whose sources YAML lacks meta.required) fall back to typed nulls `where false`,
    so their features are null/zero instead of failing the build. A missing required table stops `dbt run/build`
    with a message naming the file to provide; other commands (compile, docs, lint) get the empty shape.
-#}
{% macro source_or_empty(source_name, table_name) %}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- set node = source_node(source_name, table_name) -%}
    {%- set location = source_location(source_name, table_name) -%}
    {%- if source_columns(source_name, table_name) is not none -%}
        {{ return(source_relation(source_name, table_name)) }}
    {%- endif -%}
    {%- if node.meta.get('required') and flags.WHICH in ('run', 'build') -%}
        {{ exceptions.raise_compiler_error(
            "Required raw table '" ~ table_name ~ "' not found at '" ~ location ~ "'. Provide it as Parquet "
            ~ "(columns: " ~ (node.columns.keys() | join(', ')) ~ ") or point the path var of source '"
            ~ source_name ~ "' at it (raw_path / CHURN_RAW_PATH for the shop tables, e.g. after "
            ~ "`churn generate --out DIR`)."
        ) }}
    {%- endif -%}
    {{ log("raw table " ~ table_name ~ " not found at " ~ location ~ ": using an empty relation", info=True) }}
    {{ return(empty_relation_from_source(source_name, table_name)) }}
{% endmacro %}
