with

source_rows as (
    select * from {{ staging_relation('support_tickets', {'is_text_truncated': 'boolean'}) }}
)

select * from source_rows
