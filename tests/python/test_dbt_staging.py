"""Staging on a hand-built raw world: casts, quarantine reasons, nothing lost, optional and required tables."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import dbt_env

from python_jobs.dbt_runner import DbtError, run_dbt

PROJECT_DIR = Path(__file__).resolve().parents[2]
VARS = {"source_system": "synthetic", "max_valid_date": "2025-12-31", "as_of_date": "2025-07-01"}
TS = pa.timestamp("us")


def _customers() -> pa.Table:
    rows = [
        ("c1", datetime(2025, 1, 1), " gb ", "organic", "a@x.io"),
        ("c2", datetime(2025, 1, 2), "US", "EMAIL", None),
        ("c2", datetime(2025, 1, 2), "US", "EMAIL", None),  # exact duplicate -> duplicate_row
        ("c3", datetime(2025, 1, 3), "DE", "social", None),
        ("c3", datetime(2025, 2, 3), "FR", "social", None),  # same id, later -> duplicate_id
        (None, datetime(2025, 1, 4), "DE", "social", None),  # null_id
        ("c5", datetime(2027, 1, 1), "DE", "social", None),  # future_timestamp
    ]
    cols = list(zip(*rows, strict=True))
    return pa.table(
        {
            "customer_id": pa.array(cols[0], pa.string()),
            "signup_at": pa.array(cols[1], TS),
            "country": pa.array(cols[2], pa.string()),
            "acquisition_channel": pa.array(cols[3], pa.string()),
            "email": pa.array(cols[4], pa.string()),
        }
    )


def _orders() -> pa.Table:
    d = datetime
    rows = [
        (1, "c1", d(2025, 2, 1), "completed", 50.0, 0.0),
        (2, "c1", d(2025, 3, 1), "returned", 20.0, 5.0),
        (3, "c2", d(2025, 2, 1), "cancelled", 30.0, 0.0),
        (4, "c2", d(2025, 2, 2), "completed", -3.0, 0.0),  # negative_amount
        (5, None, d(2025, 2, 2), "completed", 3.0, 0.0),  # null_customer_id
        (6, "c9", d(2025, 2, 2), "completed", 3.0, 0.0),  # orphan_customer
        (7, "c3", d(2026, 6, 1), "completed", 3.0, 0.0),  # future_timestamp
        (8, "c3", d(2025, 4, 1), "shipped", 3.0, 0.0),  # invalid_status
        (9, "c3", d(2025, 5, 1), "completed", 9.0, 0.0),
        (9, "c3", d(2025, 5, 1), "completed", 9.0, 0.0),  # duplicate_row
        (10, "c3", d(2025, 5, 2), "completed", "n/a", 0.0),  # unparseable_value (amount)
    ]
    cols = list(zip(*rows, strict=True))
    return pa.table(
        {
            "order_id": pa.array(cols[0], pa.int64()),  # integer ids in raw: staged as varchar
            "customer_id": pa.array(cols[1], pa.string()),
            "ordered_at": pa.array(cols[2], TS),
            "status": pa.array(cols[3], pa.string()),
            "amount": pa.array(
                [str(v) for v in cols[4]], pa.string()
            ),  # text amounts: staged via a safe cast
            "discount_amount": pa.array(cols[5], pa.float64()),
            "promised_delivery_at": pa.array([None] * len(rows), TS),
            "delivered_at": pa.array([None] * len(rows), TS),
        }
    )


def _reviews() -> pa.Table:
    long_text = "slow " * 3000
    return pa.table(
        {
            "review_id": ["r1", "r2", "r3", "r4"],
            "customer_id": ["c1", "c1", "c2", "c3"],
            "order_id": ["1", "2", None, None],
            "created_at": pa.array([datetime(2025, 2, 5)] * 4, TS),
            "rating": pa.array([5, 9, 2, 1], pa.int32()),  # 9 -> invalid_rating
            "title": [" Great ", "x", None, "Too long"],
            "body": ["Loved it", "y", "   ", long_text],  # r3: empty title and body -> empty_text
            # no `language` column: an optional contract column may be left out (staged as null)
        }
    )


def _env(raw: Path, work: Path) -> dict[str, str]:
    return dbt_env(work, raw)


SELECT = ["--select", "+path:models/marts/core", "+path:models/marts/behavior", "+stg_synthetic__quarantine"]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    raw = tmp_path_factory.mktemp("raw")
    pq.write_table(_customers(), raw / "customers.parquet")
    pq.write_table(_orders(), raw / "orders.parquet")
    pq.write_table(_reviews(), raw / "reviews.parquet")
    work = tmp_path_factory.mktemp("work")
    # build = models + every test on them, including raw = staged + quarantined per table.
    run_dbt(
        ["build", "--indirect-selection", "cautious", *SELECT],
        vars=VARS,
        project_dir=PROJECT_DIR,
        env=_env(raw, work),
    )
    con = duckdb.connect(str(work / "churn.duckdb"), read_only=True)
    yield con
    con.close()


def test_quarantine_reasons(warehouse: duckdb.DuckDBPyConnection) -> None:
    got = set(
        warehouse.execute(
            "select source_table, row_key, reason from staging.stg_synthetic__quarantine"
        ).fetchall()
    )
    expected = {
        ("customers", "c2", "duplicate_row"),
        ("customers", "c3", "duplicate_id"),
        ("customers", "c5", "future_timestamp"),
        ("orders", "4", "negative_amount"),
        ("orders", "5", "null_customer_id"),
        ("orders", "6", "orphan_customer"),
        ("orders", "7", "future_timestamp"),
        ("orders", "8", "invalid_status"),
        ("orders", "9", "duplicate_row"),
        ("orders", "10", "unparseable_value"),
        ("reviews", "r2", "invalid_rating"),
        ("reviews", "r3", "empty_text"),
    }
    assert expected <= got
    detail = warehouse.execute(
        "select detail from staging.stg_synthetic__quarantine where reason = 'unparseable_value'"
    ).fetchone()[0]
    assert detail == "amount"
    null_id = [r for r in got if r[0] == "customers" and r[2] == "null_id"]
    assert len(null_id) == 1 and null_id[0][1].startswith("_row:")
    assert len(got) == len(expected) + 1


def test_staged_rows_are_cleaned(warehouse: duckdb.DuckDBPyConnection) -> None:
    customers = dict(
        warehouse.execute("select customer_id, country from staging.stg_synthetic__customers").fetchall()
    )
    assert customers == {"c1": "GB", "c2": "US", "c3": "DE"}  # trimmed, upper-cased, earliest c3 kept
    orders = warehouse.execute("select order_id, status from marts.fct_orders order by order_id").fetchall()
    assert orders == [("1", "completed"), ("2", "returned"), ("3", "cancelled"), ("9", "completed")]
    body, truncated = warehouse.execute(
        "select body, is_text_truncated from marts.fct_reviews where review_id = 'r4'"
    ).fetchone()
    assert truncated and len(body) == 8000
    assert warehouse.execute("select count(language) from marts.fct_reviews").fetchone()[0] == 0


def test_optional_tables_absent_give_empty_marts(warehouse: duckdb.DuckDBPyConnection) -> None:
    assert warehouse.execute("select count(*) from intermediate.int_sessions").fetchone()[0] == 0
    sessions, last_visit = warehouse.execute(
        "select sum(sessions_30d), count(days_since_last_visit) from marts.customer_activity"
    ).fetchone()
    assert sessions == 0 and last_visit == 0


def _stage_orders(tmp_path: Path, orders: pa.Table | None) -> None:
    """Stage raw customers and `orders` (no orders file when None) up to base_synthetic__orders."""
    raw = tmp_path / "raw"
    raw.mkdir()
    pq.write_table(_customers(), raw / "customers.parquet")
    if orders is not None:
        pq.write_table(orders, raw / "orders.parquet")
    run_dbt(
        ["run", "--select", "base_synthetic__orders"],
        vars=VARS,
        project_dir=PROJECT_DIR,
        env=_env(raw, tmp_path),
    )


def test_missing_required_table_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(DbtError, match=r"Required raw table 'orders' not found"):
        _stage_orders(tmp_path, None)


def test_missing_required_column_names_it(tmp_path: Path) -> None:
    with pytest.raises(DbtError, match=r"lacks required column 'status'"):
        _stage_orders(tmp_path, _orders().drop_columns(["status"]))
