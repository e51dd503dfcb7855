"""Point in time (design section 6) and reproducibility, proved on whole dbt builds.

Features at snapshot T may use only what was known before T. So whatever happens at or after T (events moved
later, moved onto T exactly, deleted, added; review and ticket text and star ratings rewritten; deliveries of
earlier orders arriving later; earlier orders cancelled or returned later) must leave every feature at every
snapshot <= T unchanged: behaviour marts, text tags, the weak sentiment model learned from star ratings,
customer_voice and churn_training_set. T is the evaluation snapshot, so anything learned from data (the weak
model, the voice PCs, the churn models) is learned before it. And two fresh builds of the same raw data give
identical tables (floats within 1e-9), so a difference is a leak, never noise.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import dbt_env
from warehouse_tables import assert_same_tables

from python_jobs.dbt_runner import run_dbt

PROJECT_DIR = Path(__file__).resolve().parents[2]
AS_OF = "2025-12-01"
CUTOFF = datetime(
    2025, 6, 1
)  # snapshot T under test (a month start inside the spine), the evaluation snapshot
VARS = {
    "as_of_date": AS_OF,
    "spine_start_date": "2024-03-01",
    "eval_snapshot_date": CUTOFF.date().isoformat(),
    "max_valid_date": "2026-12-31",
    "source_system": "synthetic",
}
# Tables with one row per (customer, snapshot) whose rows at snapshots <= T must not move.
FEATURE_TABLES = {
    "marts": ("customer_rfm", "customer_order_features", "customer_activity", "customer_voice"),
    "ml": ("churn_training_set",),
}
# (table, event timestamp column) for every raw event table.
EVENT_TABLES = {
    "orders": "ordered_at",
    "sessions": "started_at",
    "coupon_redemptions": "redeemed_at",
    "reviews": "created_at",
    "support_tickets": "created_at",
}


def _build(raw: Path, work: Path) -> Path:
    run_dbt(
        ["build", "--resource-type", "model", "--resource-type", "seed"],
        vars=VARS,
        project_dir=PROJECT_DIR,
        env=dbt_env(work, raw),
    )
    return work / "churn.duckdb"


def _rows_up_to(db: Path, cutoff: datetime) -> dict[str, pd.DataFrame]:
    out = {}
    with duckdb.connect(str(db), read_only=True) as con:
        for schema, tables in FEATURE_TABLES.items():
            for table in tables:
                df = con.execute(
                    f"select * from {schema}.{table} where snapshot_date <= ? order by customer_id, snapshot_date",
                    [cutoff.date()],
                ).df()
                if "churned" in df:  # the label at T is the future by definition; earlier labels closed by T
                    df["churned"] = df["churned"].where(df["snapshot_date"] < pd.Timestamp(cutoff))
                    # so is what the label was computed from, which the row's fingerprint records
                    df = df.drop(columns=["inputs_fingerprint"], errors="ignore")
                out[table] = df
        out["weak_sentiment_model"] = con.execute(
            "select * exclude (artifact_path) from enrichment.weak_sentiment_model"
        ).df()
        out["review_tags_before_t"] = con.execute(
            "select * exclude (enriched_at) from enrichment.review_tags where created_at < ? order by review_id",
            [cutoff],
        ).df()
    return out


def _rewrite_text(df: pd.DataFrame, idx: pd.Index, columns: tuple[str, ...]) -> None:
    for col in columns:
        if col in df:
            df.loc[idx, col] = "Terrible, broken, late. I want a refund and I will never order again."
    if "rating" in df:
        df.loc[idx, "rating"] = 6 - df.loc[idx, "rating"].fillna(3)


def _perturb_after(raw: Path, out: Path, cutoff: datetime) -> dict[str, int]:
    """Copy the raw world, changing only what happens at or after `cutoff`; return how many rows changed."""
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
            rewritten = idx[n // 2 :]
            df.loc[moved, ts_col] = ts[moved] + timedelta(days=17)
            df.loc[on_cutoff, ts_col] = cutoff  # exactly T: still not a feature at T
            _rewrite_text(df, rewritten, ("title", "subject", "body"))
            if table == "orders":
                # Deliveries of orders placed before T that arrive at/after T arrive even later.
                delivered = pd.to_datetime(df["delivered_at"])
                late = (ts < cutoff) & (delivered >= cutoff)
                df.loc[late, "delivered_at"] = delivered[late] + timedelta(days=5)
                # Orders placed before T and cancelled or returned at/after T: valid, unreturned orders at T.
                before = df.index[
                    (ts < cutoff) & (ts >= cutoff - timedelta(days=200)) & (df["status"] == "completed")
                ]
                cancel, ret = before[::7], before[3::7]
                df.loc[cancel, "status"] = "cancelled"
                df.loc[cancel, "cancelled_at"] = cutoff + timedelta(days=2)
                df.loc[ret, "status"] = "returned"
                df.loc[ret, "returned_at"] = cutoff
                # Orders placed after T flip status (e.g. cancelled later): invisible at T.
                df.loc[moved, "status"] = "cancelled"
                changed["orders_late_deliveries"] = int(late.sum())
                changed["orders_status_changed_after_t"] = len(cancel) + len(ret)
            added = df.loc[moved].copy()
            id_col = df.columns[0]
            added[id_col] = added[id_col].astype(str) + "_added"
            added[ts_col] = pd.Timestamp(cutoff) + timedelta(days=3)
            df = pd.concat([df.drop(index=dropped), added], ignore_index=True)
            con.register("perturbed", df)
            con.execute(f"copy perturbed to '{out / f'{table}.parquet'}' (format parquet)")
            con.unregister("perturbed")
            changed[table] = len(moved) + len(on_cutoff) + len(dropped) + len(added) + len(rewritten)
    return changed


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(warehouse, the same raw world built again from scratch, the world with post-T events perturbed)."""
    from python_jobs.synth import generate_world

    root = tmp_path_factory.mktemp("leakage")
    generate_world(600, 11, root / "raw_a", progress=False)
    changed = _perturb_after(root / "raw_a", root / "raw_b", CUTOFF)
    for key in ("orders", "sessions", "reviews", "support_tickets", "orders_status_changed_after_t"):
        assert changed.get(key, 0) > 0, changed
    return (
        _build(root / "raw_a", root / "a"),
        _build(root / "raw_a", root / "a_again"),
        _build(root / "raw_b", root / "b"),
    )


def test_features_at_t_ignore_everything_at_or_after_t(builds: tuple[Path, Path, Path]) -> None:
    baseline, _, perturbed = (_rows_up_to(db, CUTOFF) for db in builds)
    for name, frame in baseline.items():
        assert len(frame) > 0, f"{name} has no rows at or before {CUTOFF:%Y-%m-%d}"
        pd.testing.assert_frame_equal(frame, perturbed[name], check_exact=True, obj=name)
    assert baseline["weak_sentiment_model"]["status"].tolist() == ["fitted"]


def test_perturbation_is_visible_after_t(builds: tuple[Path, Path, Path]) -> None:
    """Guard against a vacuous pass: the same perturbation does change features and tags after T."""
    later = datetime(2025, 11, 1)
    baseline, _, perturbed = (_rows_up_to(db, later) for db in builds)
    for table in ("customer_rfm", "customer_voice"):
        after_t = [
            df[df["snapshot_date"] > pd.Timestamp(CUTOFF)].reset_index(drop=True)
            for df in (baseline[table], perturbed[table])
        ]
        assert len(after_t[0]) > 0
        assert not after_t[0].equals(after_t[1]), table


def test_two_fresh_builds_of_the_same_data_are_identical(builds: tuple[Path, Path, Path]) -> None:
    assert_same_tables(builds[0], builds[1])
