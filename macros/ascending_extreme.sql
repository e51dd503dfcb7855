{#-
    min() or max() of `expression` over a window frame whose rows are ordered so that the expression's non-null
    values ascend (it is the order's first key, or grows with it): the smallest is then the frame's first non-null
    value and the largest its last. DuckDB reads those directly, where a framed min/max builds a segment tree:
    customer_activity's pass over one bucket of 1M customers (11.6M rows, same rows out) 10.4-11.1 s -> 6.9-7.3 s
    of CPU. Other engines take min/max.
-#}
{% macro ascending_extreme(fn, expression) %}
    {%- if fn not in ('min', 'max') -%}
        {%- do exceptions.raise_compiler_error("ascending_extreme: fn must be 'min' or 'max', got " ~ fn) -%}
    {%- endif -%}
    {{ return(adapter.dispatch('ascending_extreme')(fn, expression)) }}
{% endmacro %}

{% macro default__ascending_extreme(fn, expression) -%}
    {{ fn }}({{ expression }})
{%- endmacro %}

{% macro duckdb__ascending_extreme(fn, expression) -%}
    {{ 'first_value' if fn == 'min' else 'last_value' }}({{ expression }} ignore nulls)
{%- endmacro %}
