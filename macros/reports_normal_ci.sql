{#-
    Difference of two proportions (treated - control) with a normal-approximation confidence interval.
    p1, p2: proportions; n1, n2: group sizes; z: 1.96 for 95%. Yields the standard error expression.
-#}
{% macro reports_diff_se(p1, n1, p2, n2) -%}
    sqrt({{ p1 }} * (1 - {{ p1 }}) / nullif({{ n1 }}, 0) + {{ p2 }} * (1 - {{ p2 }}) / nullif({{ n2 }}, 0))
{%- endmacro %}
