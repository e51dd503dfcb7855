{#-
    Order status as known at a point in time (design section 6): `orders` is an alias of int_orders and `at`
    a timestamp expression (a snapshot date, a horizon end). A cancellation or return is unknown before its
    timestamp, so an order cancelled after `at` is a valid order at `at`.
-#}
{% macro order_valid_at(orders, at) -%}
    ({{ orders }}.cancelled_at is null or {{ orders }}.cancelled_at >= {{ at }})
{%- endmacro %}

{% macro order_cancelled_at(orders, at) -%}
    ({{ orders }}.cancelled_at < {{ at }})
{%- endmacro %}

{% macro order_returned_at(orders, at) -%}
    ({{ orders }}.returned_at < {{ at }})
{%- endmacro %}
