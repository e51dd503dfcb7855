"""End to end: generate a tiny world and run `dbt build` on the whole project (every model and test)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import E2E_CUSTOMERS as N_CUSTOMERS

BEHAVIOUR_MARTS = ("customer_rfm", "customer_order_features", "customer_activity", "churn_labels")


@pytest.fixture(scope="module")
def warehouse(e2e_world: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(e2e_world / "churn.duckdb"), read_only=True)
    yield con
    con.close()


def test_behaviour_marts_share_one_grain(warehouse: duckdb.DuckDBPyConnection) -> None:
    counts = {
        mart: warehouse.execute(f"select count(*) from marts.{mart}").fetchone()[0]
        for mart in BEHAVIOUR_MARTS
    }
    assert len(set(counts.values())) == 1 and counts["churn_labels"] > N_CUSTOMERS, counts


def test_churn_rate_is_plausible(warehouse: duckdb.DuckDBPyConnection) -> None:
    rates = warehouse.execute(
        """
        select snapshot_date, count(*) as eligible, avg(cast(churned as integer)) as churn_rate
        from marts.churn_labels
        where is_eligible and horizon_observed
        group by snapshot_date
        having count(*) >= 200
        """
    ).fetchall()
    assert rates, "no labelled snapshot with at least 200 eligible customers"
    assert all(0.05 < rate < 0.8 for _, _, rate in rates), rates


def test_quarantine_catches_the_generated_dirt(warehouse: duckdb.DuckDBPyConnection) -> None:
    tables = {
        row[0]
        for row in warehouse.execute(
            "select distinct source_table from staging.stg_synthetic__quarantine"
        ).fetchall()
    }
    assert {"customers", "orders"} <= tables


def test_latest_snapshot_has_rfm_segments(warehouse: duckdb.DuckDBPyConnection) -> None:
    segments = warehouse.execute(
        """
        select count(distinct rfm_segment)
        from marts.customer_rfm
        where snapshot_date = (select max(snapshot_date) from marts.customer_rfm) and r_score is not null
        """
    ).fetchone()[0]
    assert segments >= 8
