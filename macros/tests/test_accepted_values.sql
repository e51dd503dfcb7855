{#-
    dbt's accepted_values, with each quoted value escaped for the engine (dbt.escape_single_quotes): dbt's own
    writes values as they are, so the YAML had to carry SQL escapes ("Can''t Lose"), which Spark reads as two
    adjacent literals ('Can' 't Lose' = "Cant Lose").
-#}
{% test accepted_values(model, column_name, values, quote=True) %}
with all_values as (
    select
        {{ column_name }} as value_field,
        count(*) as n_records
    from {{ model }}
    group by {{ column_name }}
)

select *
from all_values
where value_field not in (
    {%- for value in values -%}
        {%- if quote -%}'{{ dbt.escape_single_quotes(value | string) }}'{%- else -%}{{ value }}{%- endif -%}
        {%- if not loop.last -%}, {% endif -%}
    {%- endfor -%}
)
{% endtest %}
