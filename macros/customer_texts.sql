{#-
    Select of every review and support ticket with a customer and a creation time: one row per text, with its
    tags from review_tags / ticket_tags when tagged (tag_status = 'tagged'; null otherwise). The one rule of
    what a complaint is: a negative review or any support ticket (is_complaint; null for an untagged review).
    Columns: source ('review' | 'ticket'), source_id, customer_id, created_at, tag_status, sentiment,
    sentiment_label, topics, churn_intent, intensity, is_complaint.
    only_tagged=false keeps the tags of every status (voice_snapshot_inputs: any re-tag changes a fingerprint).
    in_bucket=true keeps the texts of the statement's customer bucket (macros/customer_buckets.sql) before their
    tags are joined: the left join keeps DuckDB from pushing the bucket's customers below it, so each bucket
    otherwise joined every text to its tags (customer_voice at 1M, one of its four bucket statements, 8 runs
    each: median 13.5 -> 12.2 s CPU, same rows).
-#}
{% macro customer_texts(only_tagged=true, in_bucket=false) %}
    {%- for source, text_model, tags_model, id, complaint in [
        ('review', 'fct_reviews', 'review_tags', 'review_id', "tags.sentiment_label = 'negative'"),
        ('ticket', 'fct_support_tickets', 'ticket_tags', 'ticket_id', 'true'),
    ] %}
    {{ 'union all' if not loop.first }}
    select
        '{{ source }}' as source,
        texts.{{ id }} as source_id,
        texts.customer_id,
        texts.created_at,
        tags.tag_status,
        tags.sentiment,
        tags.sentiment_label,
        tags.topics,
        tags.churn_intent,
        tags.intensity,
        {{ complaint }} as is_complaint
    from {{ ref(text_model) }} as texts
    left join {{ python_step('enrichment', tags_model) }} as tags
        on
            cast(texts.{{ id }} as {{ dbt.type_string() }}) = tags.{{ id }}
            {{- " and tags.tag_status = 'tagged'" if only_tagged }}
    where
        texts.customer_id is not null and texts.created_at is not null
        {%- if in_bucket %}
        and {{ in_customer_bucket('texts.customer_id') }}
        {%- endif %}
    {%- endfor %}
{% endmacro %}
