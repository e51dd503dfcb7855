with

source_rows as (
    select * from {{ staging_relation('coupon_redemptions') }}
)

select * from source_rows
