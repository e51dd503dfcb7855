"""Quarantine is never silent, and an empty required table stops the build in staging with a clear message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from conftest import dbt_env

from python_jobs.build import format_quarantine_summary, quarantine_summary
from python_jobs.dbt_runner import DbtError, run_dbt

PROJECT_DIR = Path(__file__).resolve().parents[2]
VARS = {"source_system": "synthetic"}
ORDERS_STAGING = ["--select", "+base_synthetic__orders"]
STAGING = ["--select", "+stg_synthetic__quarantine", "--indirect-selection", "cautious"]


@pytest.mark.e2e
def test_two_percent_unparseable_orders_warn_and_the_summary_lists_them(
    e2e_world: Path, tmp_path: Path
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(e2e_world / "raw" / "customers.parquet", raw)
    orders = pq.read_table(e2e_world / "raw" / "orders.parquet")
    amounts = pc.cast(orders.column("amount"), pa.string()).to_pylist()
    step = 50  # every 50th order: 2% unparseable on top of the world's ~1% planted dirt
    amounts = ["n/a" if i % step == 0 else a for i, a in enumerate(amounts)]
    orders = orders.set_column(
        orders.schema.get_field_index("amount"), "amount", pa.array(amounts, pa.string())
    )
    pq.write_table(orders, raw / "orders.parquet")

    results = run_dbt(["build", *STAGING], vars=VARS, project_dir=PROJECT_DIR, env=dbt_env(tmp_path, raw))
    statuses = {r.node.name: str(r.status) for r in results if r.node.name.startswith("quarantined_share_")}
    orders_test = next(v for k, v in statuses.items() if "base_synthetic__orders" in k)
    customers_test = next(v for k, v in statuses.items() if "base_synthetic__customers" in k)
    assert (orders_test, customers_test) == ("warn", "pass"), statuses

    rows = quarantine_summary(tmp_path / "churn.duckdb", "synthetic")
    assert ("orders", "unparseable_value", len(range(0, len(amounts), step))) in rows
    text = format_quarantine_summary(rows)
    assert text.startswith("Quarantine: ") and "unparseable_value" in text


def _customers() -> pa.Table:
    return pa.table({"customer_id": ["c1", "c2"], "signup_at": pa.array([0, 0], pa.timestamp("us"))})


def _orders(amounts: list[float]) -> pa.Table:
    n = len(amounts)
    return pa.table(
        {
            "order_id": pa.array([f"o{i}" for i in range(n)], pa.string()),
            "customer_id": pa.array(["c1"] * n, pa.string()),
            "ordered_at": pa.array([1_700_000_000_000_000] * n, pa.timestamp("us")),
            "status": pa.array(["completed"] * n, pa.string()),
            "amount": pa.array(amounts, pa.float64()),
        }
    )


@pytest.mark.parametrize(
    ("amounts", "message"),
    [
        ([], r"Required raw table 'orders' at '.*orders\.parquet' has 0 rows, 0 of them valid"),
        ([-1.0, -2.0], r"Required raw table 'orders' at '.*orders\.parquet' has 2 rows, 0 of them valid"),
    ],
)
def test_empty_required_table_fails_in_staging_naming_table_and_file(
    tmp_path: Path, amounts: list[float], message: str
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    pq.write_table(_customers(), raw / "customers.parquet")
    pq.write_table(_orders(amounts), raw / "orders.parquet")
    with pytest.raises(DbtError, match=message):
        run_dbt(["run", *ORDERS_STAGING], vars=VARS, project_dir=PROJECT_DIR, env=dbt_env(tmp_path, raw))
