"""Point-in-time property of the behaviour marts (design section 6).

Features at snapshot T may use only events with timestamp < T. So whatever happens at or after T (events
moved later, moved onto T exactly, deleted, added, deliveries of earlier orders arriving later) must leave
every feature at every snapshot <= T unchanged. The test builds a small world twice, the second time with
only post-T events perturbed, and compares the feature marts row for row.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import dbt_env

from python_jobs.dbt_runner import run_dbt

PROJECT_DIR = Path(__file__).resolve().parents[2]
FEATURE_MARTS = ("customer_rfm", "customer_order_features", "customer_activity")
AS_OF = "2025-12-01"
CUTOFF = datetime(2025, 6, 1)  # snapshot T under test (a month start inside the spine)
VARS = {
    "as_of_date": AS_OF,
    "spine_start_date": "2024-03-01",
    "max_valid_date": "2026-12-31",
    "source_system": "synthetic",
}
# (table, event timestamp column) for every raw event table the behaviour marts read.
EVENT_TABLES = {
    "orders": "ordered_at",
    "sessions": "started_at",
    "coupon_redemptions": "redeemed_at",
    "reviews": "created_at",
    "support_tickets": "created_at",
}


def _build(raw: Path, work: Path) -> Path:
    db = work / "churn.duckdb"
    run_dbt(
        [
            "build",
            "--resource-type",
            "model",
            "--resource-type",
            "seed",
            "--select",
            *(f"+{m}" for m in FEATURE_MARTS),
        ],
        vars=VARS,
        project_dir=PROJECT_DIR,
        env=dbt_env(work, raw),
    )
    return db


def _features(db: Path, cutoff: datetime) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            mart: con.execute(
                f"select * from marts.{mart} where snapshot_date <= ? order by customer_id, snapshot_date",
                [cutoff.date()],
            ).df()
            for mart in FEATURE_MARTS
        }


def _perturb_after(raw: Path, out: Path, cutoff: datetime) -> dict[str, int]:
    """Copy the raw world, changing only events stamped at or after `cutoff`; return how many rows changed."""
    shutil.copytree(raw, out)
    changed: dict[str, int] = {}
    with duckdb.connect() as con:
        for table, ts_col in EVENT_TABLES.items():
            path = raw / f"{table}.parquet"
            if not path.exists():
                continue
            df = con.execute(f"select * from read_parquet('{path}')").df()
            ts = pd.to_datetime(df[ts_col])
            after = ts >= cutoff
            idx = df.index[after]
            n = len(idx)
            moved, on_cutoff, dropped = idx[: n // 3], idx[n // 3 : n // 3 + 5], idx[n // 3 + 5 : n // 2]
            df.loc[moved, ts_col] = ts[moved] + timedelta(days=17)
            df.loc[on_cutoff, ts_col] = cutoff  # exactly T: still not a feature at T
            if table == "orders":
                # Deliveries of orders placed before T that arrive at/after T arrive even later.
                delivered = pd.to_datetime(df["delivered_at"])
                late = (ts < cutoff) & (delivered >= cutoff)
                df.loc[late, "delivered_at"] = delivered[late] + timedelta(days=5)
                # Orders placed after T flip status (e.g. cancelled later): invisible at T.
                df.loc[moved, "status"] = "cancelled"
                changed["orders_late_deliveries"] = int(late.sum())
            added = df.loc[moved].copy()
            id_col = df.columns[0]
            added[id_col] = added[id_col].astype(str) + "_added"
            added[ts_col] = pd.Timestamp(cutoff) + timedelta(days=3)
            df = pd.concat([df.drop(index=dropped), added], ignore_index=True)
            con.register("perturbed", df)
            con.execute(f"copy perturbed to '{out / f'{table}.parquet'}' (format parquet)")
            con.unregister("perturbed")
            changed[table] = len(moved) + len(on_cutoff) + len(dropped) + len(added)
    return changed


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(baseline warehouse, warehouse built from the same world with post-T events perturbed)."""
    from python_jobs.synth import generate_world

    root = tmp_path_factory.mktemp("leakage")
    generate_world(600, 11, root / "raw_a", progress=False)
    changed = _perturb_after(root / "raw_a", root / "raw_b", CUTOFF)
    assert changed["orders"] > 0 and changed.get("sessions", 0) > 0, changed
    return _build(root / "raw_a", root / "a"), _build(root / "raw_b", root / "b")


def test_features_at_t_ignore_events_at_or_after_t(builds: tuple[Path, Path]) -> None:
    baseline, perturbed = (_features(db, CUTOFF) for db in builds)
    for mart in FEATURE_MARTS:
        assert len(baseline[mart]) > 0, f"{mart} has no rows at or before {CUTOFF:%Y-%m-%d}"
        pd.testing.assert_frame_equal(baseline[mart], perturbed[mart], check_exact=True, obj=mart)


def test_perturbation_is_visible_after_t(builds: tuple[Path, Path]) -> None:
    """Guard against a vacuous pass: the same perturbation does change features at later snapshots."""
    later = datetime(2025, 11, 1)
    baseline, perturbed = (_features(db, later)["customer_rfm"] for db in builds)
    after_t = [
        df[df["snapshot_date"] > pd.Timestamp(CUTOFF)].reset_index(drop=True) for df in (baseline, perturbed)
    ]
    assert len(after_t[0]) > 0
    assert not after_t[0].equals(after_t[1])
