{#- The topic list compiled into customer_voice (macro voice_topics) and every topic a tagger returned must be
    keys of seed topic_taxonomy. -#}
with

seed as (
    select topic_key from {{ ref('topic_taxonomy') }}
),

compiled as (
    {%- for topic in voice_topics() %}
        select '{{ topic }}' as topic_key{% if not loop.last %}
            union all{% endif %}
    {%- endfor %}
),

tagged as (
    select distinct {{ list_elements('topics') }} as topic_key from {{ python_step('enrichment', 'review_tags') }}
    union
    select distinct {{ list_elements('topics') }} as topic_key from {{ python_step('enrichment', 'ticket_tags') }}
),

problems as (
    select
        topic_key,
        'in voice_topics() but not in the seed' as problem
    from compiled
    where topic_key not in (select seed.topic_key from seed)
    union all
    select
        topic_key,
        'in the seed but not in voice_topics()' as problem
    from seed
    where topic_key not in (select compiled.topic_key from compiled)
    union all
    select
        topic_key,
        'returned by a tagger but not in the seed' as problem
    from tagged
    where topic_key not in (select seed.topic_key from seed)
)

select * from problems
