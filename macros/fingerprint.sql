{#-
    Building blocks of the snapshot fingerprints (int_snapshot_inputs, voice_snapshot_inputs; read by
    macros/incremental_by_snapshot.sql).
-#}

{#- One row per fact: the day it became known and the hash of its row. facts: [relation alias, known-at
    expression] pairs; every column of the relation is part of the fact. -#}
{% macro dated_fact_hashes(facts) %}
    {%- for alias, known_at in facts %}
    select
        cast({{ known_at }} as date) as known_on,
        {{ row_hash(alias) }} as fact_hash
    from {{ alias }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{% endmacro %}

{#- Facts per day: their count and the exact sum of their hashes (order-free, so parallel scans agree). -#}
{% macro daily_fact_sums(facts_relation) %}
    select
        known_on,
        count(*) as n_facts,
        sum(cast(fact_hash as decimal(38, 0))) as hash_sum
    from {{ facts_relation }}
    group by known_on
{% endmacro %}

{#- md5 of the parts (SQL expressions, null read as 0), as text joined by ':'. -#}
{% macro fingerprint_of(parts) %}
    {%- set texts = [] -%}
    {%- for part in parts -%}
        {%- do texts.append("coalesce(cast(" ~ part ~ " as " ~ dbt.type_string() ~ "), '0')") -%}
    {%- endfor -%}
    {{ dbt.hash("concat(" ~ (texts | join(", ':', ")) ~ ")") }}
{% endmacro %}
