-- The columns and their types are the enforced contract in _core__models.yml (dbt fails the build on a mismatch).
with

interventions as (
    select * from {{ ref('int_interventions') }}
)

select
    *,
    arm = 'treatment' as is_treated
from interventions
