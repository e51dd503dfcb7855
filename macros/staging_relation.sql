{#-
    The staging model `stg_<var('source_system')>__<entity>`, or an empty relation shaped like the raw contract's
    `synthetic.<entity>` table when the chosen source system does not provide that entity (e.g. Online Retail has
    no sessions or reviews). The entity list per source system is static so dbt can resolve refs at parse time.
-#}
{% macro staging_relation(entity, extra_columns={}) %}
    {%- set provided = {
        'synthetic': ['customers', 'orders', 'order_items', 'sessions', 'coupon_redemptions', 'reviews',
                      'support_tickets', 'interventions'],
        'online_retail': ['customers', 'orders', 'order_items'],
    } -%}
    {%- set system = env_var('CHURN_SOURCE_SYSTEM', var('source_system')) -%}
    {%- if system not in provided -%}
        {{ exceptions.raise_compiler_error("Unknown var('source_system') '" ~ system ~ "': expected one of "
            ~ (provided.keys() | join(', '))) }}
    {%- endif -%}
    {%- if entity in provided[system] -%}
        {{ return(ref('stg_' ~ system ~ '__' ~ entity)) }}
    {%- endif -%}
    {{ return(empty_relation_from_source('synthetic', entity, extra_columns)) }}
{% endmacro %}
