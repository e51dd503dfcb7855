{#- Topic keys of seeds/topic_taxonomy.csv (the customer_voice contract needs them at compile time; a singular
    test, voice_topics_match_seed, fails when the seed and this list drift apart). -#}
{% macro voice_topics() %}
    {{ return(['delivery', 'product_quality', 'price_value', 'customer_service', 'returns_refunds',
               'packaging', 'size_fit', 'website_app', 'payment', 'other']) }}
{% endmacro %}

{#- True when the array column `col` holds the string `topic` (dialect-specific). -#}
{% macro voice_has_topic(col, topic) %}
    {{ return(adapter.dispatch('voice_has_topic')(col, topic)) }}
{% endmacro %}

{% macro default__voice_has_topic(col, topic) -%}
    list_contains({{ col }}, '{{ topic }}')
{%- endmacro %}

{% macro postgres__voice_has_topic(col, topic) -%}
    ('{{ topic }}' = any({{ col }}))
{%- endmacro %}
