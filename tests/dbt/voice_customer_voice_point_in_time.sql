{#-
    Point-in-time check for customer_voice: recount, from the text marts directly, the texts created strictly
    before each snapshot and in the 90-day window; any difference (e.g. a text at or after T leaking in) fails.
-#}
{%- set window_days = var('voice_window_days', 90) %}

with

voice as (
    select * from {{ built_snapshots(ref('customer_voice')) }}
),

texts as (
    select
        'review' as source,
        customer_id,
        created_at
    from {{ ref('fct_reviews') }}
    union all
    select
        'ticket' as source,
        customer_id,
        created_at
    from {{ ref('fct_support_tickets') }}
),

recount as (
    select
        voice.customer_id,
        voice.snapshot_date,
        sum(case when texts.source = 'review' then 1 else 0 end) as reviews_lifetime,
        sum(case when texts.source = 'ticket' then 1 else 0 end) as tickets_lifetime,
        sum(
            case
                when
                    texts.source = 'review'
                    and texts.created_at >= {{ dbt.dateadd('day', -window_days, 'voice.snapshot_date') }}
                    then 1
                else 0
            end
        ) as reviews_90d,
        max(texts.created_at) as max_created_at
    from voice
    inner join texts
        on
            voice.customer_id = texts.customer_id
            and voice.snapshot_date > texts.created_at
    group by voice.customer_id, voice.snapshot_date
)

select
    voice.customer_id,
    voice.snapshot_date,
    voice.reviews_lifetime,
    recount.reviews_lifetime as expected_reviews_lifetime,
    voice.tickets_lifetime,
    recount.tickets_lifetime as expected_tickets_lifetime
from voice
left join recount
    on {{ same_customer_snapshot('voice', 'recount') }}
where
    voice.reviews_lifetime <> coalesce(recount.reviews_lifetime, 0)
    or voice.tickets_lifetime <> coalesce(recount.tickets_lifetime, 0)
    or voice.reviews_90d <> coalesce(recount.reviews_90d, 0)
    or voice.voice_max_event_at is distinct from recount.max_created_at
