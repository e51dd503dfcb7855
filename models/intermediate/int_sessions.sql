with

source_rows as (
    select * from {{ staging_relation('sessions') }}
)

select * from source_rows
