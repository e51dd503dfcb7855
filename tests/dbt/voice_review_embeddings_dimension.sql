{#- Every review embedding has the same d > 0 elements and no NaN (on DuckDB: a fixed-size FLOAT[d] array). A build
    checks the rows it embedded (test_enriched_rows.sql) against their own d and that of one other row: the rows
    before were checked alike when they were written. -#}
{%- set nan = "'NaN' as " ~ type_double() %}
{#- DuckDB: NaN in x <=> x . x is NaN (squares are never negative, so no inf - inf), without copying every vector to
    double[] (1.3M x 256 at 1M customers: 4 s) -#}
{%- set has_nan = "isnan(list_inner_product(embeddings.embedding, embeddings.embedding))" if target.type == 'duckdb'
    else list_has('cast(embeddings.embedding as ' ~ portable_type('double[]') ~ ')', 'cast(' ~ nan ~ ')') %}
with

embeddings as (
    select
        review_id,
        embedding,
        {{ list_length('embedding') }} as dim
    from {{ enriched_rows(python_step('enrichment', 'review_embeddings')) }}
),

any_row as (
    select {{ list_length('embedding') }} as dim
    from {{ python_step('enrichment', 'review_embeddings') }}
    order by review_id
    limit 1
),

dims as (
    select max(dim) as dim from embeddings
)

select
    embeddings.review_id,
    embeddings.dim
from embeddings
cross join dims
cross join any_row
where
    embeddings.dim <> dims.dim
    or embeddings.dim <> any_row.dim
    or embeddings.dim = 0
    or {{ has_nan }}
    or {{ "typeof(embeddings.embedding) <> 'FLOAT[' || cast(dims.dim as varchar) || ']'"
        if target.type == 'duckdb' else 'false' }}
