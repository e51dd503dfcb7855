{#- Array (list) columns, the few operations the project needs, per engine. -#}

{#- True when array `col` holds the value of SQL expression `value`. -#}
{% macro list_has(col, value) %}
    {{ return(adapter.dispatch('list_has')(col, value)) }}
{% endmacro %}

{% macro default__list_has(col, value) %}
    {{ return('list_contains(' ~ col ~ ', ' ~ value ~ ')') }}
{% endmacro %}

{% macro postgres__list_has(col, value) %}
    {{ return('(' ~ value ~ ' = any(' ~ col ~ '))') }}
{% endmacro %}

{% macro spark__list_has(col, value) %}
    {{ return('array_contains(' ~ col ~ ', ' ~ value ~ ')') }}
{% endmacro %}

{#- The number of elements of array `col`. -#}
{% macro list_length(col) %}
    {{ return(adapter.dispatch('list_length')(col)) }}
{% endmacro %}

{% macro default__list_length(col) %}
    {{ return('len(' ~ col ~ ')') }}
{% endmacro %}

{% macro postgres__list_length(col) %}
    {{ return('coalesce(cardinality(' ~ col ~ '), 0)') }}
{% endmacro %}

{% macro spark__list_length(col) %}
    {{ return('size(' ~ col ~ ')') }}
{% endmacro %}

{#- In a select list: one output row per element of array `col` (none for an empty or null array). -#}
{% macro list_elements(col) %}
    {{ return(adapter.dispatch('list_elements')(col)) }}
{% endmacro %}

{% macro default__list_elements(col) %}
    {{ return('unnest(' ~ col ~ ')') }}
{% endmacro %}

{% macro spark__list_elements(col) %}
    {{ return('explode(' ~ col ~ ')') }}
{% endmacro %}

{#-
    last_value(column ignore nulls) over a named window: the last non-null value up to the current row.
    PostgreSQL has no IGNORE NULLS: the non-null values so far, as an array, indexed by their count.
-#}
{% macro last_non_null(column, window) %}
    {{ return(adapter.dispatch('last_non_null')(column, window)) }}
{% endmacro %}

{% macro default__last_non_null(column, window) %}
    {{ return('last_value(' ~ column ~ ' ignore nulls) over ' ~ window) }}
{% endmacro %}

{% macro postgres__last_non_null(column, window) %}
    {{ return('(array_agg(' ~ column ~ ') filter (where ' ~ column ~ ' is not null) over ' ~ window
        ~ ')[count(' ~ column ~ ') over ' ~ window ~ ']') }}
{% endmacro %}

{% macro spark__last_non_null(column, window) %}
    {{ return('last_value(' ~ column ~ ', true) over ' ~ window) }}
{% endmacro %}

{#- string_agg(measure, delimiter order by order_column): dbt.listagg, except on Spark, which has no ordered
    aggregate: the (order, value) pairs are collected, sorted and joined. `delimiter` is a SQL string literal. -#}
{% macro ordered_listagg(measure, delimiter, order_column) %}
    {{ return(adapter.dispatch('ordered_listagg')(measure, delimiter, order_column)) }}
{% endmacro %}

{% macro default__ordered_listagg(measure, delimiter, order_column) %}
    {{ return(dbt.listagg(measure, delimiter, 'order by ' ~ order_column)) }}
{% endmacro %}

{% macro spark__ordered_listagg(measure, delimiter, order_column) %}
    {{ return('array_join(transform(array_sort(collect_list(struct(' ~ order_column ~ ' as k, ' ~ measure
        ~ ' as v))), x -> x.v), ' ~ delimiter ~ ')') }}
{% endmacro %}

{#- As an aggregate: the last non-null `value` in the ascending order of `keys` (SQL expressions; later keys break
    ties of earlier ones), null when every value is null. The aggregate twin of last_non_null over a window. -#}
{% macro last_by(value, keys) %}
    {{ return(adapter.dispatch('last_by')(value, keys)) }}
{% endmacro %}

{% macro default__last_by(value, keys) %}
    {{ return('arg_max(' ~ value ~ ', (' ~ value ~ ' is not null, ' ~ keys | join(', ') ~ '))') }}
{% endmacro %}

{% macro postgres__last_by(value, keys) %}
    {{ return('(array_agg(' ~ value ~ ' order by ' ~ value ~ ' is not null desc, ' ~ keys | join(' desc, ')
        ~ ' desc))[1]') }}
{% endmacro %}

{% macro spark__last_by(value, keys) %}
    {{ return('max_by(' ~ value ~ ', struct(' ~ value ~ ' is not null, ' ~ keys | join(', ') ~ '))') }}
{% endmacro %}
