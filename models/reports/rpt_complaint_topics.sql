{#-
    Complaint topics over time: one row per calendar month and topic with the number of complaint mentions
    (negative reviews and support tickets), the customers behind them and the topic's share of the month.
-#}

with

mentions as (
    select * from {{ ref('complaint_mentions') }}
),

monthly as (
    select
        cast({{ dbt.date_trunc('month', 'created_at') }} as date) as month,
        topic,
        count(*) as mentions,
        sum(case when source = 'review' then 1 else 0 end) as review_mentions,
        sum(case when source = 'ticket' then 1 else 0 end) as ticket_mentions,
        count(distinct customer_id) as customers
    from mentions
    group by 1, 2
)

select
    month,
    cast(topic as {{ dbt.type_string() }}) as topic,
    cast(mentions as integer) as mentions,
    cast(review_mentions as integer) as review_mentions,
    cast(ticket_mentions as integer) as ticket_mentions,
    cast(customers as integer) as customers,
    {{ ratio('mentions', 'sum(mentions) over (partition by month)') }} as share_of_month
from monthly
