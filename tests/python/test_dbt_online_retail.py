"""Online Retail I through the same marts, under design section 11's definition (skips without the data)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import dbt_env, shared_data

from python_jobs.dbt_runner import run_dbt

PROJECT_DIR = Path(__file__).resolve().parents[2]
# Design section 11: monthly snapshots, lookback 365, horizon 90, train 2011-01..06, evaluate 2011-09-01.
ONLINE_RETAIL_VARS = {
    "source_system": "online_retail",
    "as_of_date": "2011-12-01",
    "spine_start_date": "2011-01-01",
    "lookback_days": 365,
    "churn_horizon_days": 90,
    "train_start_date": "2011-01-01",
    "train_end_date": "2011-06-01",
    "eval_snapshot_date": "2011-09-01",
}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    data = shared_data("online_retail", "online_retail_I_2010-2011.parquet")
    work = tmp_path_factory.mktemp("online_retail")
    run_dbt(
        [
            "build",
            "--indirect-selection",
            "cautious",
            "--select",
            "+path:models/marts/core",
            "+path:models/marts/behavior",
            "+stg_online_retail__quarantine",
        ],
        vars=ONLINE_RETAIL_VARS,
        project_dir=PROJECT_DIR,
        env=dbt_env(work, source_system="online_retail", CHURN_ONLINE_RETAIL_PATH=str(data)),
    )
    con = duckdb.connect(str(work / "churn.duckdb"), read_only=True)
    yield con
    con.close()


def test_eval_snapshot_matches_design_section_11(warehouse: duckdb.DuckDBPyConnection) -> None:
    eligible, churn_rate = warehouse.execute(
        """
        select count(*), avg(cast(churned as integer))
        from marts.churn_labels
        where snapshot_date = date '2011-09-01' and is_eligible and horizon_observed
        """
    ).fetchone()
    assert eligible == 3317
    assert churn_rate == pytest.approx(0.438, abs=0.0005)


def test_cancellations_and_guest_rows_are_quarantined(warehouse: duckdb.DuckDBPyConnection) -> None:
    reasons = dict(
        warehouse.execute(
            "select reason, count(*) from staging.stg_online_retail__quarantine group by 1"
        ).fetchall()
    )
    assert reasons["null_customer_id"] == 135_080  # data README: rows without CustomerID
    assert reasons["cancellation"] > 8_000  # cancellation lines that do have a customer
    customers, orders = warehouse.execute(
        "select (select count(*) from marts.dim_customers), (select count(*) from marts.fct_orders)"
    ).fetchone()
    assert 4_300 <= customers <= 4_372 and 18_000 <= orders <= 19_000


def test_optional_entities_are_empty(warehouse: duckdb.DuckDBPyConnection) -> None:
    assert warehouse.execute("select count(*) from marts.fct_reviews").fetchone()[0] == 0
    assert warehouse.execute("select max(sessions_30d) from marts.customer_activity").fetchone()[0] == 0
