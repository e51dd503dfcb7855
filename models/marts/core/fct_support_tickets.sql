-- The columns and their types are the enforced contract in _core__models.yml (dbt fails the build on a mismatch).
with

tickets as (
    select * from {{ ref('int_support_tickets') }}
)

select * from tickets
