with

source_rows as (
    select * from {{ staging_relation('interventions') }}
)

select * from source_rows
