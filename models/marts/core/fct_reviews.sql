-- The columns and their types are the enforced contract in _core__models.yml (dbt fails the build on a mismatch).
with

reviews as (
    select * from {{ ref('int_reviews') }}
)

select * from reviews
