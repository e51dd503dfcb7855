{#- Every review embedding is a fixed-size FLOAT[d] array with the same d > 0 and no null or NaN element. -#}
with

embeddings as (
    select
        review_id,
        embedding,
        len(embedding) as dim,
        typeof(embedding) as type_name
    from {{ ref('review_embeddings') }}
),

dims as (
    select max(dim) as dim from embeddings
)

select
    embeddings.review_id,
    embeddings.dim,
    embeddings.type_name
from embeddings
cross join dims
where
    embeddings.dim <> dims.dim
    or embeddings.dim = 0
    or embeddings.type_name <> 'FLOAT[' || cast(dims.dim as varchar) || ']'
    or list_has_any(cast(embeddings.embedding as double[]), [cast('nan' as double)])
