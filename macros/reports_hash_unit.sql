{#-
    A deterministic number in [0, 1) from a text expression: the first 28 bits of its md5.
    Same input, same number, on every run and every database (used for the control arm and samples).
    Python equivalent: int(hashlib.md5(text.encode()).hexdigest()[:7], 16) / 2**28.
-#}
{% macro reports_hash_unit(expr) -%}
    {{ return(adapter.dispatch('reports_hash_unit')(expr)) }}
{%- endmacro %}

{% macro default__reports_hash_unit(expr) -%}
    (('x' || substr(md5({{ expr }}), 1, 7))::bit(28)::integer / 268435456.0)
{%- endmacro %}

{% macro duckdb__reports_hash_unit(expr) -%}
    (('0x' || substr(md5({{ expr }}), 1, 7))::bigint / 268435456.0)
{%- endmacro %}

{% macro spark__reports_hash_unit(expr) -%}
    (cast(conv(substr(md5({{ expr }}), 1, 7), 16, 10) as bigint) / 268435456.0)
{%- endmacro %}
