"""Online Retail I through its example mapping and the same marts, under design section 11's definition (the
mapping's vars; skips without the data)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import dbt_env, shared_data

from python_jobs.dbt_runner import run_dbt
from python_jobs.mapping import load_mapping, run_check

PROJECT_DIR = Path(__file__).resolve().parents[2]
MAPPING = load_mapping(PROJECT_DIR / "examples" / "mappings" / "online_retail_i.yml")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    data = shared_data("online_retail", "online_retail_I_2010-2011.parquet")
    work = tmp_path_factory.mktemp("online_retail")
    checked = run_check(MAPPING, data.parent, work, staging=False)
    assert not checked.errors, checked.format()
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
        vars=MAPPING.dbt_vars(),
        project_dir=PROJECT_DIR,
        env=dbt_env(work, raw=checked.raw_dir, source_system="online_retail"),
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
