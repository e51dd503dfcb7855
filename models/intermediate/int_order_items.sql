with

source_rows as (
    select * from {{ staging_relation('order_items') }}
)

select * from source_rows
