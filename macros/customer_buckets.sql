{#-
    Customer buckets: a snapshot mart whose per-customer pass would not fit in memory at once is built in several
    statements (DuckDB), each over the customers of one bucket. DuckDB's window operator does not spill, and it
    keeps every branch of a UNION ALL in memory until the statement ends, so one statement per bucket is what
    bounds the memory (customer_activity on all 24 snapshots of 1M customers: over 6 GB as one statement,
    3.4 GB peak in four). The rows are the same; only the peak is smaller.

    A bucket is a range of the bucketed column, [lo, hi): the pending customer snapshots are cut at quantiles of
    a sample of them (customer_bucket_bounds), so buckets hold about as many rows each. Ranges, not a hash of the
    column, because the statements then write the table in ranges: a later model that filters the same column to
    a range (another bucketed model, churn_training_set) skips the row groups outside it by their zone maps,
    instead of reading every input whole once per bucket (docs/benchmarks/2026-12-05-session37.md).

    How many: one bucket per var customer_bucket_rows (default 4,000,000; churn_training_set: training_bucket_rows,
    default 2,000,000) pending customer snapshots, counted when the model runs; a nightly build (one new snapshot)
    stays one statement. The model enables it with snapshot_incremental(kind, bucket_on=column), filters its
    customer snapshots with pending_customer_snapshots(bucket_on=column), and every input it does not join to
    them with in_customer_bucket(column) (an input inner-joined to the bucket's customers needs no filter of its
    own: at 1M one made no difference, 64.4 s vs 64.5 s; one matched with `in (subquery)` does, as a semi join
    gives DuckDB no range to push into the scan: customer_activity's latest_visits at 1M read 18.4M sessions per
    statement instead of 6.0M). The column is customer_id (never null: int_customers'
    constraint), or snapshot_date for a model whose pass is per snapshot (customer_rfm's ranks within a
    snapshot): each statement then holds whole snapshots (at 1M, 24 snapshots: 5.1 GB peak as one statement,
    2.7 GB in five). The filter reads a session variable set before each statement; unset (a unit test,
    `dbt show`, another engine) it passes every row, so the model's SQL alone is always the whole model.
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

{#- A null bound is open. DuckDB folds the variable to constants, so the range is pushed into the scans. -#}
{% macro duckdb__in_customer_bucket(column) -%}
    {%- set bucket = "getvariable('" ~ customer_bucket_variable() ~ "')" -%}
    ({{ bucket }} is null or (
        ({{ bucket }}.lo is null or {{ column }} >= {{ bucket }}.lo)
        and ({{ bucket }}.hi is null or {{ column }} < {{ bucket }}.hi)
    ))
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

{#- The statements of this run: a list of the statement variable's fields (lo, hi, replaced_nightly), empty for
    one plain statement. A bucketed model (bucket_on: its column): one bucket per `customer_bucket_var(kind)`
    pending customer snapshots, rounded up. A full build (not incremental) writes the snapshots a nightly replaces
    (snapshot_fingerprints' replaced_nightly) after all the others, in statements of their own: a nightly's delete
    of them then empties whole row groups (DuckDB), and nodes that read only the as-of snapshot skip the others by
    their zone maps. Spread through every row group, their delete made the first nightly after a full build
    rewrite each snapshot table at its checkpoint (docs/benchmarks/2026-12-05-session35.md). -#}
{% macro snapshot_statements(kind, bucket_on) %}
    {%- set split = not is_incremental() -%}
    {%- set parts = {false: [], true: []} if split else {none: []} -%}
    {%- if bucket_on -%}
        {%- set per_bucket = customer_bucket_size(kind) -%}
        {%- set counts = run_query(
            "select " ~ ("replaced_nightly" if split else "null") ~ ", count(*) from ("
            ~ pending_in_part(kind) ~ ") as pending group by all"
        ) -%}
        {%- for nightly, pending in counts.rows -%}
            {%- set buckets = ((pending + per_bucket - 1) // per_bucket) | int -%}
            {%- if buckets > 1 -%}
                {%- do parts.update({nightly: customer_bucket_bounds(kind, bucket_on, nightly, buckets)}) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set statements = [] -%}
    {%- for nightly in ([false, true] if split else [none]) -%}
        {%- set bounds = parts[nightly] -%}
        {%- for lo in [none] + bounds -%}
            {%- do statements.append({'lo': lo, 'hi': (bounds + [none])[loop.index0], 'replaced_nightly': nightly}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(statements if statements | length > 1 else []) }}
{% endmacro %}

{#- The pending customer snapshots with their part (fingerprints.replaced_nightly), for counting and cutting. -#}
{% macro pending_in_part(kind) %}
    select
        pending.*,
        fingerprints.replaced_nightly
    from ({{ pending_customer_snapshots(kind) }}) as pending
    inner join ({{ snapshot_fingerprints(kind) }}) as fingerprints
        on pending.snapshot_date = fingerprints.snapshot_date
{% endmacro %}

{#- The inner bounds that cut one part's pending customer snapshots into `buckets` ranges of `bucket_on` of about
    equal rows: quantiles of a sample of 100,000 (sorting all 15M customer ids of a 1M build took 1 s, the sample
    0.3 s), each once (a bound that repeats would give an empty bucket). The query writes each as a SQL literal
    of the column's type, so no value passes through agate's type guessing (an id '007' is not the number 7). -#}
{% macro customer_bucket_bounds(kind, bucket_on, nightly, buckets) %}
    {%- set fractions = [] -%}
    {%- for k in range(1, buckets) -%}{%- do fractions.append(k / buckets) -%}{%- endfor -%}
    {%- set query -%}
        select distinct
            'cast(''' || replace(cast(bound as {{ dbt.type_string() }}), '''', '''''') || ''' as ' || bound_type || ')'
                as literal,
            bound
        from (
            select
                bound_type,
                unnest(bounds) as bound
            from (
                select
                    typeof(any_value({{ bucket_on }})) as bound_type,
                    quantile_disc({{ bucket_on }}, [{{ fractions | join(', ') }}]) as bounds
                from (
                    select * from ({{ pending_in_part(kind) }}) as part
                    {%- if nightly is not none %}
                    where replaced_nightly = {{ nightly | lower }}
                    {%- endif %}
                ) as pending using sample reservoir(100000 rows) repeatable (0)
            ) as sampled
        ) as cut
        where bound is not null
        order by bound
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
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
    {%- set statements = snapshot_statements(kind, meta.get('bucket_on')) -%}
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
        'lo': {{ statement.lo or 'null' }},
        'hi': {{ statement.hi or 'null' }},
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
