{#-
    Customer buckets: a snapshot mart whose per-customer pass would not fit in memory at once is built in several
    statements (DuckDB), each over the customers of one bucket. DuckDB's window operator does not spill, and it
    keeps every branch of a UNION ALL in memory until the statement ends, so one statement per bucket is what
    bounds the memory (customer_activity on all 24 snapshots of 1M customers: over 6 GB as one statement,
    3.4 GB peak in four). The rows are the same; only the peak is smaller.

    How many: one bucket per var customer_bucket_rows (default 4,000,000; churn_training_set: training_bucket_rows,
    default 2,000,000) pending customer snapshots, counted when the model runs; a nightly build (one new snapshot)
    stays one statement. The model enables it with snapshot_incremental(kind, customer_buckets=true) and filters
    its customer snapshots (pending_customer_snapshots(bucket_on=column)), and every input it does not join to
    them, with in_customer_bucket(column) (an input joined to the bucket's customers needs no filter of its own:
    at 1M one made no difference, 64.4 s vs 64.5 s). A model whose pass is per snapshot instead
    (customer_rfm's ranks within a snapshot) buckets on snapshot_date: each statement then holds whole snapshots
    (at 1M, 24 snapshots: 5.1 GB peak as one statement, 2.7 GB in five). The filter reads a session variable set before
    each statement; unset (a unit test, `dbt show`, another engine) it passes every row, so the model's SQL alone
    is always the whole model.
-#}
{% macro customer_bucket_variable() %}
    {{ return('churn_customer_bucket_' ~ model.name) }}
{% endmacro %}

{% macro in_customer_bucket(column) %}
    {{ return(adapter.dispatch('in_customer_bucket')(column)) }}
{% endmacro %}

{% macro default__in_customer_bucket(column) -%}
    true
{%- endmacro %}

{% macro duckdb__in_customer_bucket(column) -%}
    {%- set bucket = "getvariable('" ~ customer_bucket_variable() ~ "')" -%}
    ({{ bucket }} is null or hash({{ column }}) % {{ bucket }}.buckets = {{ bucket }}.bucket)
{%- endmacro %}

{#- The part of a full build a statement computes: the snapshots a nightly replaces, or all the others (the
    variable's `replaced_nightly`, against snapshot_fingerprints' column); unset or null, every snapshot. -#}
{% macro in_snapshot_part(replaced_nightly) %}
    {{ return(adapter.dispatch('in_snapshot_part')(replaced_nightly)) }}
{% endmacro %}

{% macro default__in_snapshot_part(replaced_nightly) -%}
    true
{%- endmacro %}

{% macro duckdb__in_snapshot_part(replaced_nightly) -%}
    {%- set part = "getvariable('" ~ customer_bucket_variable() ~ "').replaced_nightly" -%}
    ({{ part }} is null or {{ replaced_nightly }} = {{ part }})
{%- endmacro %}

{#- The var that sets a bucket's size: churn_training_set's rows carry every feature (~4x a mart's columns), and one
    of three buckets of the 1M training set ran out of memory at memory_limit 5GB alone (2026-12-04). -#}
{% macro customer_bucket_var(kind) %}
    {{ return('training_bucket_rows' if kind == 'training' else 'customer_bucket_rows') }}
{% endmacro %}

{#- The statements of this run: a list of the statement variable's fields (bucket, buckets, replaced_nightly),
    empty for one plain statement. A bucketed model: one bucket per `customer_bucket_var(kind)` pending customer
    snapshots, rounded up. A full build (not incremental) writes the snapshots a nightly replaces
    (snapshot_fingerprints' replaced_nightly) after all the others, in statements of their own: a nightly's delete
    of them then empties whole row groups (DuckDB), and nodes that read only the as-of snapshot skip the others by
    their zone maps. Spread through every row group, their delete made the first nightly after a full build
    rewrite each snapshot table at its checkpoint (docs/benchmarks/2026-12-05-session35.md). -#}
{% macro snapshot_statements(kind, bucketed) %}
    {%- set split = not is_incremental() -%}
    {%- set parts = {false: 1, true: 1} if split else {none: 1} -%}
    {%- if bucketed -%}
        {%- set per_bucket = customer_bucket_size(kind) -%}
        {%- set counts = run_query(
            "select " ~ ("fingerprints.replaced_nightly" if split else "null") ~ ", count(*) from ("
            ~ pending_customer_snapshots(kind) ~ ") as pending inner join (" ~ snapshot_fingerprints(kind)
            ~ ") as fingerprints on pending.snapshot_date = fingerprints.snapshot_date group by all"
        ) -%}
        {%- for nightly, pending in counts.rows -%}
            {%- do parts.update({nightly: [1, ((pending + per_bucket - 1) // per_bucket) | int] | max}) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set statements = [] -%}
    {%- for nightly in ([false, true] if split else [none]) -%}
        {%- for bucket in range(parts[nightly]) -%}
            {%- do statements.append({'bucket': bucket, 'buckets': parts[nightly], 'replaced_nightly': nightly}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(statements if statements | length > 1 else []) }}
{% endmacro %}

{% macro customer_bucket_size(kind) %}
    {%- set name = customer_bucket_var(kind) -%}
    {%- set per_bucket = var(name) | int -%}
    {%- if per_bucket < 1 -%}
        {%- do exceptions.raise_compiler_error(
            "var " ~ name ~ " must be a whole number of at least 1 (got " ~ var(name)
            ~ "): it is how many customer snapshots one statement of a bucketed snapshot mart computes"
        ) -%}
    {%- endif -%}
    {{ return(per_bucket) }}
{% endmacro %}

{#- dbt-duckdb's create_table_as, once per statement of snapshot_statements for a snapshot mart: the first statement
    creates the table, the others insert into it; the variable is reset at the end. Tables and temp tables of the
    incremental path go through here alike. -#}
{% macro duckdb__create_table_as(
    temporary, relation, compiled_code, language='sql', partitioned_by=none, sorted_by=none
) %}
    {%- set whole = dbt.duckdb__create_table_as(
        temporary, relation, compiled_code, language, partitioned_by, sorted_by
    ) -%}
    {%- set meta = config.get('meta') -%}
    {%- set kind = meta.get('snapshot_inputs') if meta is mapping else none -%}
    {%- if language != 'sql' or not kind -%}
        {{ return(whole) }}
    {%- endif -%}
    {%- set statements = snapshot_statements(kind, meta.get('customer_buckets')) -%}
    {%- if not statements -%}
        {{ return(whole) }}
    {%- endif -%}
    {%- set past = statements | rejectattr('replaced_nightly') | list | length -%}
    {%- do log(model.name ~ ": " ~ statements | length ~ " statements (" ~ past ~ " for past snapshots, "
        ~ (statements | length - past) ~ " for those a nightly replaces; var " ~ customer_bucket_var(kind) ~ ")"
        if statements[0].replaced_nightly is not none
        else model.name ~ ": " ~ statements | length ~ " customer buckets (var " ~ customer_bucket_var(kind) ~ ")",
        info=true) -%}
    {%- set variable = customer_bucket_variable() -%}
    {%- for statement in statements %}
    {%- set nightly = statement.replaced_nightly %}
    set variable {{ variable }} = {
        'bucket': {{ statement.bucket }}::ubigint,
        'buckets': {{ statement.buckets }}::ubigint,
        'replaced_nightly': {{ 'null' if nightly is none else nightly | lower }}::boolean
    };
    {% if loop.first -%}
    {{ whole }}
    {%- else -%}
    insert into {{ relation.include(database=(not temporary), schema=(not temporary)) }} by name
    select * from (
        {{ compiled_code }}
    ) as bucket_rows;
    {%- endif %}
    {%- endfor %}
    reset variable {{ variable }};
{% endmacro %}
