{#- Topic keys of seeds/topic_taxonomy.csv, the one list of complaint topics (python_jobs/taxonomy.py reads the
    same file): customer_voice compiles one column set per topic. -#}
{% macro voice_topics() %}
    {{ return(seed_rows('topic_taxonomy', ['topic_key']) | map(attribute='topic_key') | list) }}
{% endmacro %}

{#- True when the array column `col` holds the string `topic`. -#}
{% macro voice_has_topic(col, topic) %}
    {{ return(list_has(col, "'" ~ topic ~ "'")) }}
{% endmacro %}
