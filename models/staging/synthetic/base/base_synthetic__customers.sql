{{ config(materialized='table', post_hook="{{ require_rows('synthetic', 'customers') }}") }}

with

source as (
    select * from {{ source_or_empty('synthetic', 'customers') }}
),

typed as (
    select
        {{ typed_source_columns('synthetic', 'customers', 'source') }},
        {{ row_hash('source') }} as _row_hash
    from source
),

row_checks as (
    select
        *,
        case
            when _unparseable_columns is not null then 'unparseable_value'
            when customer_id is null then 'null_id'
            when signup_at is null then 'null_timestamp'
            when cast(signup_at as date) > {{ max_valid_date() }} then 'future_timestamp'
        end as _row_reason
    from typed
),

ranked as (
    select
        *,
        {{ duplicate_ranks('customer_id', 'signup_at') }}
    from row_checks
)

select
    customer_id,
    signup_at,
    upper(country) as country,
    lower(acquisition_channel) as acquisition_channel,
    -- a direct identifier: only its hash passes staging (joinable with a CRM list hashed the same way)
    sha256(lower(email)) as email_hash,
    coalesce(customer_id, '_row:' || cast(_row_hash as varchar)) as row_key,
    _unparseable_columns as quarantine_detail,
    coalesce(
        _row_reason,
        case
            when _copy_number > 1 then 'duplicate_row'
            when _id_rank > 1 then 'duplicate_id'
        end
    ) as quarantine_reason
from ranked
