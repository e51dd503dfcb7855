-- One row per customer with a valid invoice line: signup = first valid invoice, country = most frequent one.
with

lines as (
    select * from {{ ref('base_online_retail__lines') }}
    where quarantine_reason is null
),

country_counts as (
    select
        customer_id,
        country,
        count(*) as n_lines,
        row_number() over (partition by customer_id order by count(*) desc, country) as country_rank
    from lines
    group by customer_id, country
),

first_invoices as (
    select
        customer_id,
        min(invoiced_at) as signup_at
    from lines
    group by customer_id
)

select
    first_invoices.customer_id,
    first_invoices.signup_at,
    country_counts.country,
    cast(null as {{ dbt.type_string() }}) as acquisition_channel,
    cast(null as {{ dbt.type_string() }}) as email_hash
from first_invoices
left join country_counts
    on
        first_invoices.customer_id = country_counts.customer_id
        and country_counts.country_rank = 1
