{#-
    numerator / denominator as a 64-bit float, null when the denominator is 0 or null. Division is always written
    with this macro: integer operands truncate on PostgreSQL (a share of 1 in 4 became 0) and `x * 1.0` is an
    exact numeric there, a double on DuckDB.
-#}
{% macro ratio(numerator, denominator) -%}
    (cast({{ numerator }} as {{ type_double() }}) / nullif(cast({{ denominator }} as {{ type_double() }}), 0))
{%- endmacro %}
