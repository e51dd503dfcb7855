{#-
    sum() of a floating-point expression computed in fixed-point decimal and returned as double (0 when empty).
    Parallel float sums depend on row order in the last bits; ties in quintile scores then flip between builds.
-#}
{% macro exact_sum(expression, scale=6) %}
    {{ return('coalesce(cast(sum(cast(' ~ expression ~ ' as decimal(38, ' ~ scale ~ '))) as '
        ~ 'double precision), 0)') }}
{% endmacro %}
