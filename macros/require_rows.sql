{#-
    Post-hook for the base model of a required raw table: stop the build in staging, with a message naming
    the table and its file, when fewer than var('min_required_rows') rows pass the staging checks (an empty
    or all-quarantined export would otherwise fail much later with a modelling traceback).
    Usage: config(post_hook="{{ require_rows('synthetic', 'orders') }}"); the model has quarantine_reason.
-#}
{% macro require_rows(source_name, table_name) %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set minimum = var('min_required_rows', 1) | int -%}
    {%- set counts = run_query(
        "select count(*), count(*) - count(quarantine_reason) from " ~ this
    ).rows[0] -%}
    {%- if counts[1] < minimum -%}
        {{ exceptions.raise_compiler_error(
            "Required raw table '" ~ table_name ~ "' at '" ~ source_location(source_name, table_name)
            ~ "' has " ~ counts[0] ~ " rows, " ~ counts[1] ~ " of them valid (the rest are in the quarantine "
            ~ "model with their reason); at least " ~ minimum ~ " valid rows are needed (var min_required_rows)."
        ) }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}
