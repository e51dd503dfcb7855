{#-
    What each snapshot's customer_voice rows were computed from (the voice counterpart of int_snapshot_inputs,
    read by macros/incremental_by_snapshot.sql with kind 'voice'): the customers signed up before T, every review
    and ticket created before T with its current tags (a re-tag after a new tagger or weak model changes them),
    and the fingerprint of the snapshot's embedding components (it changes when the training window moves).
    Facts are hashed and summed per day, then accumulated up to each snapshot.
-#}
with

customers as (
    select
        customer_id,
        signup_at
    from {{ ref('dim_customers') }}
),

texts as (
    {{ customer_texts(only_tagged=false) }}
),

facts as (
    {{ dated_fact_hashes([['customers', 'signup_at'], ['texts', 'created_at']]) }}
),

daily as (
    {{ daily_fact_sums('facts') }}
),

embedding_pcs as (
    select * from {{ python_step('marts', 'customer_voice_embedding_pcs') }}
),

components as (
    -- a snapshot's components are a function of their inputs_fingerprint (python_jobs/text/voice.py)
    select
        snapshot_date,
        count(*) as n_rows,
        max(inputs_fingerprint) as components_fingerprint
    from embedding_pcs
    group by snapshot_date
),

spine as (
    select
        snapshot_date,
        is_as_of
    from {{ ref('int_snapshot_spine') }}
),

cumulative as (
    select
        spine.snapshot_date,
        sum(daily.n_facts) as n_before,
        sum(daily.hash_sum) as hash_before
    from spine
    inner join daily on spine.snapshot_date > daily.known_on
    group by spine.snapshot_date
)

select
    spine.snapshot_date,
    {{ fingerprint_of([
        'cumulative.n_before', 'cumulative.hash_before', 'components.n_rows', 'components.components_fingerprint',
    ]) }} as voice_fingerprint,
    spine.is_as_of
from spine
left join cumulative on spine.snapshot_date = cumulative.snapshot_date
left join components on spine.snapshot_date = components.snapshot_date
