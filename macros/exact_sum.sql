{#-
    sum() of a floating-point expression computed in fixed-point decimal and returned as double (0 when empty).
    Parallel float sums depend on row order in the last bits; ties in quintile scores then flip between builds.
-#}
{% macro exact_sum(expression, scale=6) %}
    {{ return('coalesce(cast(sum(cast(' ~ expression ~ ' as decimal(38, ' ~ scale ~ '))) as '
        ~ type_double() ~ '), 0)') }}
{% endmacro %}

{#-
    avg() of a floating-point expression as an exact decimal sum over the count of non-null values (null when
    there are none): a mean that is bit-identical whatever order parallel threads add the rows in, so two builds
    of the same data give the same feature and the same training fingerprint. `over` names a window to make it a
    running mean (a window function) instead of an aggregate.
-#}
{% macro exact_avg(expression, scale=6, over=none) %}
    {%- set window = ' over ' ~ over if over else '' -%}
    {{ return('cast(sum(cast(' ~ expression ~ ' as decimal(38, ' ~ scale ~ ')))' ~ window ~ ' as ' ~ type_double() ~ ') / '
        ~ 'nullif(count(' ~ expression ~ ')' ~ window ~ ', 0)') }}
{% endmacro %}
