{#-
    fct_orders is incremental by order (issue 10). An order's row reads only its own order row, lines and coupon
    redemptions, and a nightly build restages a few thousand of the 5M orders, 9M lines and 0.8M redemptions of
    1M customers, so it recomputes only the orders it restaged instead of grouping every line again.

    Which orders: the keys the base staging models restaged in this invocation (their record,
    macros/test_restaged_keys.sql), as order ids: the restaged orders, and the orders of the restaged lines and
    redemptions. That misses changes the record cannot show (a line deleted or moved off an order, a build that
    restaged orders without building fct_orders, a change of code or settings), so before it trusts the stored
    rows of every other order, the build checks them: each row keeps an `inputs_fingerprint`, the exact sum of the
    row hashes of its order row, lines and redemptions plus a term for the code and settings
    (snapshot_code_version), and the stored fingerprints of the orders not restaged must add up to the same sums
    over the current rows of those orders. A change anywhere moves the sums (short of a 64-bit hash collision, as
    for the staging and snapshot fingerprints), and the build recomputes every order instead. So the table always
    equals a full refresh; the record only decides how much work that takes.

    The check assumes every line's order is staged (base order lines quarantine orphans); where that does not
    hold, the sums never match and every build recomputes every order: correct, only slower.
-#}
{% macro order_facts_config() %}
    {{ return(adapter.dispatch('order_facts_config')()) }}
{% endmacro %}

{#- PostgreSQL: per-customer lookups (the RFM and label recount tests) need an index. DuckDB gets none: its hash
    joins and scans do not use one, and every delete and insert would have to maintain it. -#}
{% macro default__order_facts_config() %}
    {{ config(
        materialized='incremental', incremental_strategy='replace_keys', unique_key='order_id',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['customer_id', 'ordered_at']}] if target.type == 'postgres' else [],
    ) }}
{% endmacro %}

{#- Spark (Parquet tables, no delete) rebuilds the table. -#}
{% macro spark__order_facts_config() %}
    {{ config(materialized='table') }}
{% endmacro %}

{#- The exact sum of the row hashes of `alias` (every column), as the fingerprint type. -#}
{% macro row_hash_sum(alias) %}
    {{ return('sum(cast(' ~ row_hash(alias) ~ ' as decimal(38, 0)))') }}
{% endmacro %}

{#- What every order's fingerprint adds for the code and settings it was computed with: a change to either
    moves every fingerprint. -#}
{% macro order_code_term() %}
    {{ return(local_md5(snapshot_code_version())[:15] | int(base=16)) }}
{% endmacro %}

{#- SQL of the order ids to recompute (see above), or none when every order is recomputed: a full build, a
    table without fingerprints, an engine without the record, a base model that restaged every row, or stored
    rows that no longer match their inputs. -#}
{% macro changed_orders() %}
    {%- if not execute or not is_incremental() or not keeps_snapshot_builds()
        or 'inputs_fingerprint' not in built_column_names() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set branches = [] -%}
    {%- for name in ['int_orders', 'int_order_items', 'int_coupon_redemptions'] -%}
        {%- set keys = restaged_keys_of(name) -%}
        {%- if keys == 'all' -%}
            {{ log("fct_orders: " ~ name ~ "'s base table was restaged whole: recomputing every order", info=True) }}
            {{ return(none) }}
        {%- elif keys and name == 'int_orders' -%}
            {#- the restaged order keys themselves: a deleted order has no row left to look its id up in -#}
            {%- do branches.append('select row_key as order_id from (' ~ keys.sql ~ ') as restaged') -%}
        {%- elif keys -%}
            {%- do branches.append('select order_id from ' ~ ref(name) ~ ' where cast(' ~ keys.column ~ ' as '
                ~ dbt.type_string() ~ ') in (' ~ keys.sql ~ ') and order_id is not null') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set changed = (branches | join(' union ')) if branches
        else 'select cast(null as ' ~ dbt.type_string() ~ ') as order_id where 1 = 0' -%}
    {%- set check = run_query(unchanged_orders_check(changed)).rows[0] -%}
    {%- if not check[0] -%}
        {{ log("fct_orders: stored rows of orders this build did not restage no longer match their order rows, "
            ~ "lines and coupon redemptions (an earlier build, a deleted line, or changed code): recomputing "
            ~ "every order", info=True) }}
        {{ return(none) }}
    {%- endif -%}
    {{ log("fct_orders: recomputing the " ~ check[1] ~ " orders restaged in this build", info=True) }}
    {{ return(changed) }}
{% endmacro %}

{#- The keys the base staging model under the intermediate model `name` restaged in this invocation:
    {sql: a query of them as row_key, column: the key column}; 'all' when it restaged every row or its key is
    not a column of `name`; none when it restaged nothing in this invocation (or `name` has no base model). -#}
{% macro restaged_keys_of(name) %}
    {%- set node = graph.nodes.get('model.' ~ project_name ~ '.' ~ name) -%}
    {%- set stg = graph.nodes.get(node.depends_on.nodes[0]) if node and node.depends_on.nodes | length == 1 -%}
    {%- set base = restaged_base_node(stg) if stg else none -%}
    {%- set spec = staging_spec(base) if base else none -%}
    {%- if not spec -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set record = "select row_key, all_rows from " ~ staging_builds_table() ~ " where model_id = '"
        ~ base.unique_id ~ "' and invocation_id = '" ~ invocation_id ~ "'" -%}
    {%- set marker = run_query(record ~ " and row_key is null") -%}
    {%- if not marker.rows -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(ref(name)) | map(attribute='name') | map('lower') | list -%}
    {%- if marker.rows[0][1] or spec.key not in columns -%}
        {{ return('all') }}
    {%- endif -%}
    {{ return({'sql': 'select row_key from (' ~ record ~ ') as restaged where row_key is not null',
        'column': spec.key}) }}
{% endmacro %}

{#- One row: whether the stored rows of the orders not in `changed` (SQL of order ids) still match their
    inputs (the same count, every one fingerprinted, the same sum), and how many orders `changed` holds. -#}
{% macro unchanged_orders_check(changed) %}
    with changed as ({{ changed }}),
    stored as (
        select count(*) as n, count(inputs_fingerprint) as n_fingerprinted, sum(inputs_fingerprint) as total
        from {{ this }}
        where order_id not in (select order_id from changed)
    ),
    current_orders as (
        select count(*) as n, {{ row_hash_sum('orders') }} as total
        from {{ ref('int_orders') }} as orders
        where order_id not in (select order_id from changed)
    ),
    current_lines as (
        select {{ row_hash_sum('items') }} as total
        from {{ ref('int_order_items') }} as items
        where order_id not in (select order_id from changed)
    ),
    current_coupons as (
        select {{ row_hash_sum('coupons') }} as total
        from {{ ref('int_coupon_redemptions') }} as coupons
        -- the stored orders' ids stand in for the current ones (a cheaper scan than int_orders): where the two
        -- sets differ, the orders' count or sum differs already
        where
            order_id in (select order_id from {{ this }})
            and order_id not in (select order_id from changed)
    )
    select
        stored.n = current_orders.n and stored.n_fingerprinted = stored.n
        and coalesce(stored.total, 0) = coalesce(current_orders.total, 0)
        + cast(current_orders.n as decimal(38, 0)) * {{ order_code_term() }}
        + coalesce(current_lines.total, 0) + coalesce(current_coupons.total, 0) as still_match,
        (select count(*) from changed) as changed_orders
    from stored
    cross join current_orders
    cross join current_lines
    cross join current_coupons
{% endmacro %}

{#- Incremental strategy: delete every stored row whose unique_key the new rows name, insert the new rows that
    carry a fingerprint (a row without one marks a key that is gone). -#}
{% macro get_incremental_replace_keys_sql(arg_dict) %}
    {%- set target, source, key = arg_dict['target_relation'], arg_dict['temp_relation'], arg_dict['unique_key'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }} where {{ key }} in (select {{ key }} from {{ source }});
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ source }} where inputs_fingerprint is not null;
{% endmacro %}
