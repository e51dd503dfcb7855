"""cut_world: a raw world as it would have been exported at midnight of a day (python_jobs/synth/cutoff.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from python_jobs.synth import generate_world
from python_jobs.synth.cutoff import EVENT_TS, LATER_FACTS, cut_world, last_order_day
from python_jobs.synth.writer import RAW_TABLES, TRUTH_TABLES

CUT = date(2025, 6, 15)
AT = f"timestamp '{CUT} 00:00:00'"


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("cutoff")
    src, dst = root / "src", root / "dst"
    generate_world(800, 7, src, progress=False)  # dirty by default: duplicates, orphans, future stamps
    (src / "notes.txt").write_text("not a table\n")
    cut_world(src, dst, CUT)
    return src, dst


def _scan(folder: Path, table: str) -> str:
    return f"read_parquet('{folder / f'{table}.parquet'}')"


def _count(sql: str) -> int:
    return int(duckdb.sql(sql).fetchall()[0][0])


def _same_rows(a: str, b: str) -> bool:
    """Multiset equality of two queries (EXCEPT ALL both ways is empty)."""
    return _count(f"select count(*) from (({a}) except all ({b}))") == 0 and (
        _count(f"select count(*) from (({b}) except all ({a}))") == 0
    )


def test_every_table_and_file_is_written_with_its_schema(worlds: tuple[Path, Path]) -> None:
    src, dst = worlds
    for table in (*RAW_TABLES, *TRUTH_TABLES):
        assert pq.read_schema(dst / f"{table}.parquet").equals(pq.read_schema(src / f"{table}.parquet")), (
            table
        )
    assert (dst / "notes.txt").read_text() == "not a table\n"
    assert not [p.name for p in dst.iterdir() if p.name.startswith(".")]


def test_no_row_or_fact_at_or_after_the_cut(worlds: tuple[Path, Path]) -> None:
    src, dst = worlds
    for table, column in EVENT_TS.items():
        late = f"select count(*) from {{}} where {column} >= {AT}"
        assert _count(late.format(_scan(src, table))) > 0, f"the test world has no late {table}"
        assert _count(late.format(_scan(dst, table))) == 0, table
    for column in LATER_FACTS:
        assert _count(f"select count(*) from {_scan(dst, 'orders')} where {column} >= {AT}") == 0, column


@pytest.mark.parametrize("table", [t for t in EVENT_TS if t != "orders"])
def test_rows_before_the_cut_are_identical(worlds: tuple[Path, Path], table: str) -> None:
    src, dst = worlds
    column = EVENT_TS[table]
    before = f"select * from {_scan(src, table)} where {column} is null or {column} < {AT}"
    assert _same_rows(before, f"select * from {_scan(dst, table)}")


def test_orders_keep_their_rows_and_read_their_status_as_known_at_the_cut(worlds: tuple[Path, Path]) -> None:
    src, dst = worlds
    kept = f"select * from {_scan(src, 'orders')} where ordered_at is null or ordered_at < {AT}"
    fixed = "order_id, customer_id, ordered_at, amount, discount_amount, promised_delivery_at"
    # every kept order, its own columns untouched
    assert _same_rows(f"select {fixed} from ({kept})", f"select {fixed} from {_scan(dst, 'orders')}")
    # orders with no delivery, cancellation or return at/after the cut are copied byte-identical
    untouched = " and ".join(f"({c} is null or {c} < {AT})" for c in LATER_FACTS)
    missing = (
        f"select count(*) from ((select * from ({kept}) where {untouched}) except all select * from {{}})"
    )
    assert _count(missing.format(_scan(dst, "orders"))) == 0
    # the status is the one order_status_at.sql reads at the cut, and some orders were actually changed
    known = f"""
        select {fixed},
            case when status = 'cancelled' and (cancelled_at is null or cancelled_at < {AT}) then 'cancelled'
                 when status = 'returned' and (returned_at is null or returned_at < {AT}) then 'returned'
                 else 'completed' end as status
        from ({kept})"""
    assert _same_rows(known, f"select {fixed}, status from {_scan(dst, 'orders')}")
    changed = f"select count(*) from ({kept}) where not ({untouched})"
    assert _count(changed) > 0, "the test world has no order whose status changes after the cut"
    for status, column in (("cancelled", "cancelled_at"), ("returned", "returned_at")):
        undone = f"select count(*) from {{}} where status = '{status}' and {column} is null"
        assert _count(undone.format(_scan(dst, "orders"))) == _count(undone.format(f"({kept})")), status


def test_order_items_go_with_their_order(worlds: tuple[Path, Path]) -> None:
    src, dst = worlds
    items, orders = _scan(src, "order_items"), _scan(src, "orders")
    expected = f"""
        select * from {items}
        where order_id in (select order_id from {_scan(dst, "orders")})
           or order_id not in (select order_id from {orders} where order_id is not null)
           or order_id is null"""
    assert _same_rows(expected, f"select * from {_scan(dst, 'order_items')}")
    assert _count(f"select count(*) from {items}") > _count(
        f"select count(*) from {_scan(dst, 'order_items')}"
    )


def test_truth_tables_follow_the_rows_kept(worlds: tuple[Path, Path]) -> None:
    _, dst = worlds
    texts = f"""
        select 'review' as source, review_id as source_id from {_scan(dst, "reviews")}
        union all select 'ticket', ticket_id from {_scan(dst, "support_tickets")}"""
    assert (
        _count(
            f"select count(*) from {_scan(dst, 'truth_texts')} anti join ({texts}) using (source, source_id)"
        )
        == 0
    )
    assert _count(f"select count(*) from {_scan(dst, 'truth_texts')}") > 0
    customers = f"select customer_id from {_scan(dst, 'customers')}"
    assert (
        _count(f"select count(*) from {_scan(dst, 'truth_customers')} where customer_id not in ({customers})")
        == 0
    )


def test_cut_at_the_last_order_day_drops_that_day_only(worlds: tuple[Path, Path], tmp_path: Path) -> None:
    src, _ = worlds
    last = last_order_day(src)
    rows = cut_world(src, tmp_path / "yesterday", last)
    late = f"select count(*) from {_scan(src, 'orders')} where ordered_at >= timestamp '{last}'"
    future = f"select count(*) from {_scan(src, 'orders')} where ordered_at::date > current_date"
    same_day = _count(late) - _count(future)
    assert same_day > 0
    assert rows["orders"] == _count(f"select count(*) from {_scan(src, 'orders')}") - _count(late)
    assert last_order_day(tmp_path / "yesterday") < last
    with pytest.raises(ValueError):
        cut_world(src, src, last)
