"""Incremental snapshot marts give exactly what a full refresh gives (issue 10).

A warehouse is built from the export of a month ago, then rebuilt incrementally from yesterday's export, which
has a month more data *and* late corrections dated long before (a session that arrived late, one moved to another
day, one without a time, an order whose amount was corrected, a customer's country fixed, a customer who signed
up long ago arriving late with an order that was an orphan a month ago, a customer deleted with their orders now
orphans, a session deleted, an order line sent twice), then from today's (one day more: a nightly, which must
rebuild only the as-of snapshot and the labels whose horizon closed). Every table, staging included, must equal a
fresh build of today's export. Then a no-change rebuild must leave past snapshots alone (a planted value survives
it, and its data tests, which a build runs on the snapshots it computed only) and `--full-refresh` must recompute
them.
The incremental warehouse builds its bucketed snapshot marts (customer_activity, customer_voice,
churn_training_set) in several customer buckets, the fresh one in one statement per part (past snapshots, then
those a nightly replaces), so equal tables also prove that bucketing and the split change nothing.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import dbt_env
from warehouse_tables import assert_same_tables, canonical

from python_jobs.dbt_runner import DbtError, run_dbt
from python_jobs.synth import generate_world
from python_jobs.synth.cutoff import cut_world, last_order_day

PROJECT_DIR = Path(__file__).resolve().parents[2]
MONTH_AGO = date(2025, 12, 1)
VARS = {"max_valid_date": "2026-12-31", "source_system": "synthetic"}
BUILD = ["build", "--resource-type", "model", "--resource-type", "seed"]
PLANTED = -12345.0
# a few hundred customer snapshots per statement: several buckets
BUCKETED = {"customer_bucket_rows": 300, "training_bucket_rows": 300}
NIGHTLY_RECORD = "nightly_snapshot_builds.json"


def _build(raw: Path, work: Path, *extra: str, more_vars: dict | None = None) -> Path:
    run_dbt([*BUILD, *extra], vars=VARS | (more_vars or {}), project_dir=PROJECT_DIR, env=dbt_env(work, raw))
    return work / "churn.duckdb"


def _correct_the_past(raw: Path) -> None:
    """Late-arriving and corrected rows dated long before the last month (what a real re-export brings)."""
    with duckdb.connect() as con:
        con.execute(f"create table s as select * from '{raw}/sessions.parquet'")
        con.execute(
            "insert into s select * replace ('late-session-1' as session_id, timestamp '2024-09-14 10:00:00' "
            "as started_at) from s where started_at < '2024-09-01' limit 1"
        )
        # a session's time corrected to another old day, a late session without a time (its own day bucket)
        con.execute(
            "update s set started_at = started_at - interval 3 day "
            "where session_id = (select max(session_id) from s where started_at < '2024-09-01')"
        )
        con.execute(
            "insert into s select * replace ('late-session-2' as session_id, null as started_at) from s limit 1"
        )
        con.execute(f"copy s to '{raw}/sessions.parquet' (format parquet)")
        con.execute(f"create table o as select * from '{raw}/orders.parquet'")
        con.execute(
            "update o set amount = amount + 10 where order_id = (select min(order_id) from o "
            "where ordered_at between '2025-03-01' and '2025-03-31' and status = 'completed')"
        )
        con.execute(f"copy o to '{raw}/orders.parquet' (format parquet)")
        con.execute(f"create table c as select * from '{raw}/customers.parquet'")
        con.execute("update c set country = 'PT' where customer_id = (select min(customer_id) from c)")
        con.execute(
            "insert into c select * replace ('C-late-1' as customer_id, timestamp '2024-05-01 09:00:00' as signup_at)"
            " from c limit 1"
        )
        con.execute(f"copy c to '{raw}/customers.parquet' (format parquet)")
        con.execute(f"create table i as select * from '{raw}/order_items.parquet'")
        con.execute("insert into i select * from i where order_item_id = (select min(order_item_id) from i)")
        con.execute(f"copy i to '{raw}/order_items.parquet' (format parquet)")


def _change_staging(month_ago: Path, today: Path) -> None:
    """Raw changes whose staging outcome moves rows of other raw rows too (incremental staging by key group)."""
    with duckdb.connect() as con:
        for raw in (month_ago, today):  # an orphan a month ago; its customer arrives late (_correct_the_past)
            con.execute(f"create or replace table o as select * from '{raw}/orders.parquet'")
            con.execute(
                "insert into o select * replace ('O-late-parent' as order_id, 'C-late-1' as customer_id, "
                "timestamp '2024-06-01 12:00:00' as ordered_at) from o where status = 'completed' limit 1"
            )
            con.execute(f"copy o to '{raw}/orders.parquet' (format parquet)")
        con.execute(f"create table c as select * from '{today}/customers.parquet'")
        con.execute(  # a customer with orders deleted: their orders and sessions become orphans
            f"delete from c where customer_id = (select max(customer_id) from '{today}/orders.parquet' "
            "where ordered_at < '2025-01-01')"
        )
        con.execute(f"copy c to '{today}/customers.parquet' (format parquet)")
        con.execute(f"create table s as select * from '{today}/sessions.parquet'")
        con.execute("delete from s where session_id = (select min(session_id) from s)")
        con.execute(f"copy s to '{today}/sessions.parquet' (format parquet)")


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(incremental: last month's export, yesterday's, then today's; full: today's export built from scratch).
    Today's export is yesterday's plus one day: the last step is a nightly, and what it rebuilt is kept in
    NIGHTLY_RECORD (the snapshot marts' record, and the as-of date before it)."""
    root = tmp_path_factory.mktemp("incremental")
    generate_world(500, 7, root / "today", progress=False)
    cut_world(root / "today", root / "month_ago", MONTH_AGO)
    _correct_the_past(root / "today")
    _change_staging(root / "month_ago", root / "today")
    cut_world(root / "today", root / "yesterday", last_order_day(root / "today"))
    _build(root / "month_ago", root / "incremental", more_vars=BUCKETED)
    before = _build(root / "yesterday", root / "incremental", more_vars=BUCKETED)
    with duckdb.connect(str(before), read_only=True) as con:
        (yesterday,) = con.execute(
            "select max(snapshot_date) from intermediate.int_snapshot_spine"
        ).fetchone()
    incremental = _build(root / "today", root / "incremental", more_vars=BUCKETED)
    with duckdb.connect(str(incremental), read_only=True) as con:
        rebuilt = con.execute(
            "select model_id, cast(snapshot_date as varchar) from main.churn_snapshot_builds "
            "where snapshot_date is not null"
        ).fetchall()
    (root / NIGHTLY_RECORD).write_text(json.dumps({"yesterday": str(yesterday), "rebuilt": rebuilt}))
    return incremental, _build(root / "today", root / "full")


def test_a_nightly_rebuilds_the_as_of_snapshot_and_the_labels_whose_horizon_closed(
    warehouses: tuple[Path, Path],
) -> None:
    """One more day of data moves the as-of date: each snapshot mart computes that snapshot only, and
    churn_labels also the snapshots whose horizon the day closed; a snapshot whose horizon is still open reads
    nothing after T (its labels are null), so the day's new orders leave it alone."""
    incremental, _ = warehouses
    record = json.loads((incremental.parent.parent / NIGHTLY_RECORD).read_text())
    with duckdb.connect(str(incremental), read_only=True) as con:
        spine = con.execute(
            "select cast(snapshot_date as varchar), is_as_of, horizon_observed and horizon_end_date > ? "
            "from intermediate.int_snapshot_spine",
            [date.fromisoformat(record["yesterday"])],
        ).fetchall()
    as_of = {day for day, is_as_of, _ in spine if is_as_of}
    closed = {day for day, _, just_closed in spine if just_closed}
    rebuilt: dict[str, set[str]] = {}
    for model_id, day in record["rebuilt"]:
        rebuilt.setdefault(model_id.rsplit(".", 1)[-1], set()).add(day)
    assert len(as_of) == 1
    assert rebuilt["churn_labels"] == as_of | closed, rebuilt["churn_labels"]
    # (the voice marts and the training set follow the training window too, which moves when a horizon closes)
    for model in (
        "customer_activity",
        "customer_rfm",
        "int_customer_order_windows",
        "int_customer_basket_breadth",
    ):
        assert rebuilt[model] == as_of, (model, rebuilt[model])


def test_incremental_build_after_a_month_equals_a_full_refresh(warehouses: tuple[Path, Path]) -> None:
    compared = assert_same_tables(*warehouses)
    assert {
        "staging.base_synthetic__orders",
        "staging.base_synthetic__sessions",
        "marts.fct_orders",
        "marts.customer_rfm",
        "marts.customer_activity",
        "marts.churn_labels",
        "ml.churn_scores",
    } <= set(compared)


def test_the_incremental_build_cut_its_bucketed_marts_into_buckets(warehouses: tuple[Path, Path]) -> None:
    """The incremental builds ran each bucketed mart in several customer buckets, as the module docstring says
    (dbt's log: only they run these models incrementally in this directory)."""
    incremental, _ = warehouses
    log = (incremental.parent / "logs" / "dbt.log").read_text(encoding="utf-8")
    # the models cut by customer (customer_rfm's buckets are whole snapshots)
    for model in (table.split(".")[1] for table, column in BUCKET_COLUMNS.items() if column == "customer_id"):
        found = re.findall(rf"{model}: (\d+) customer buckets", log)
        assert found and all(int(n) > 1 for n in found), f"{model}: {found or 'no customer buckets'}"


def _fct_orders(db: Path, where: str) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(f"select count(*) from marts.fct_orders where {where}").fetchone()[0]


def test_fct_orders_recomputes_only_the_orders_whose_fingerprint_changed(
    warehouses: tuple[Path, Path],
) -> None:
    """fct_orders keeps the row of an order whose inputs_fingerprint still matches its inputs (a value planted
    there survives a build) and recomputes one whose fingerprint does not (here: tampered with);
    --full-refresh recomputes every order."""
    incremental, full = warehouses
    work, raw = incremental.parent, incremental.parent.parent / "today"
    table = "marts.fct_orders"
    planted = "item_quantity = 987654"
    with duckdb.connect(str(incremental)) as con:
        kept, tampered = (
            row[0]
            for row in con.execute(f"select order_id from {table} order by order_id limit 2").fetchall()
        )
        con.execute(f"update {table} set {planted} where order_id = ?", [kept])
        con.execute(
            f"update {table} set item_quantity = 555, inputs_fingerprint = inputs_fingerprint + 1 "
            "where order_id = ?",
            [tampered],
        )
    orders = ["--select", "fct_orders"]
    run_dbt(["run", *orders], vars=VARS, project_dir=PROJECT_DIR, env=dbt_env(work, raw))
    assert _fct_orders(incremental, planted) == 1, "an order whose inputs did not change was recomputed"
    one = f"select * from {table} where order_id = '{tampered}'"
    pd.testing.assert_frame_equal(_read(incremental, one), _read(full, one))
    run_dbt(["run", *orders, "--full-refresh"], vars=VARS, project_dir=PROJECT_DIR, env=dbt_env(work, raw))
    every = f"select * from {table}"
    pd.testing.assert_frame_equal(canonical(_read(incremental, every)), canonical(_read(full, every)))


def _planted(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "select count(*) from marts.customer_rfm where frequency > 0 and r_score is null"
        ).fetchone()[0]


def _every_row_fails(test_name: str, selection: list[str], work: Path, raw: Path) -> None:
    """`dbt test`, and a build with test_all_snapshots, read every row: both fail on `test_name`."""
    for command, more_vars in (("test", {}), ("build", {"test_all_snapshots": True})):
        with pytest.raises(DbtError, match=test_name):
            run_dbt(
                [command, *selection], vars=VARS | more_vars, project_dir=PROJECT_DIR, env=dbt_env(work, raw)
            )


def test_unchanged_snapshots_are_kept_and_full_refresh_recomputes(warehouses: tuple[Path, Path]) -> None:
    incremental, _ = warehouses
    work, raw = incremental.parent, incremental.parent.parent / "today"
    with duckdb.connect(str(incremental)) as con:
        # a row the table's own constraints (its DuckDB contract) accept, but a data test does not
        con.execute(
            "update marts.customer_rfm set r_score = null where snapshot_date = '2024-06-01' and frequency > 0"
        )
    planted = _planted(incremental)
    assert planted > 0
    behaviour_marts = ["--select", "customer_rfm"]
    # a build tests only the snapshots it computed (none here), so the planted value passes it unseen ...
    run_dbt(["build", *behaviour_marts], vars=VARS, project_dir=PROJECT_DIR, env=dbt_env(work, raw))
    assert _planted(incremental) == planted, "a snapshot whose inputs did not change was recomputed"
    # ... while `dbt test`, and a build with test_all_snapshots, test every row and fail on it
    _every_row_fails(
        "expression_is_true_customer_rfm__frequency_0_r_score_is_null", behaviour_marts, work, raw
    )
    run_dbt(
        ["run", *behaviour_marts, "--full-refresh"],
        vars=VARS,
        project_dir=PROJECT_DIR,
        env=dbt_env(work, raw),
    )
    assert _planted(incremental) == 0


def test_a_rebuild_without_changes_computes_no_training_snapshot(warehouses: tuple[Path, Path]) -> None:
    """The training set holds only snapshots with a split: one without (a horizon still open before the test
    snapshot) has no rows to hold its fingerprint and must not be pending on every build."""
    incremental, _ = warehouses
    work, raw = incremental.parent, incremental.parent.parent / "today"
    run_dbt(
        ["run", "--select", "churn_training_set"], vars=VARS, project_dir=PROJECT_DIR, env=dbt_env(work, raw)
    )
    with duckdb.connect(str(incremental), read_only=True) as con:
        without_split = con.execute(
            "select count(*) from intermediate.int_snapshot_spine where split is null"
        ).fetchall()[0][0]
        pending = con.execute(
            "select count(*) from main.churn_snapshot_builds "
            "where model_id = 'model.ecom_churn.churn_training_set' and snapshot_date is not null"
        ).fetchall()[0][0]
    assert without_split > 0  # the case this test is about exists in the test world
    assert pending == 0


def _planted_scores(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "select count(*) from ml.churn_scores where churn_probability = ?", [PLANTED_P]
        ).fetchone()[0]


PLANTED_P = 0.123456789


def test_unchanged_scores_are_kept_and_full_refresh_rescores(warehouses: tuple[Path, Path]) -> None:
    """churn_scores takes a row whose inputs_fingerprint did not change from the last build (no rescoring)."""
    incremental, _ = warehouses
    work, raw = incremental.parent, incremental.parent.parent / "today"
    with duckdb.connect(str(incremental)) as con:
        con.execute(
            "update ml.churn_scores set churn_probability = ? where customer_id = (select min(customer_id) "
            "from ml.churn_scores)",
            [PLANTED_P],
        )
    scores = ["--select", "churn_scores"]
    run_dbt(["run", *scores], vars=VARS, project_dir=PROJECT_DIR, env=dbt_env(work, raw))
    assert _planted_scores(incremental) == 1, "a score whose inputs did not change was recomputed"
    run_dbt(["run", *scores, "--full-refresh"], vars=VARS, project_dir=PROJECT_DIR, env=dbt_env(work, raw))
    assert _planted_scores(incremental) == 0


def _voice_pcs(db: Path, where: str) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            f"select count(*) from marts.customer_voice_embedding_pcs where {where}"
        ).fetchone()[0]


def test_voice_components_compute_only_changed_snapshots_and_drop_outdated_ones(
    warehouses: tuple[Path, Path],
) -> None:
    """customer_voice_embedding_pcs keeps a snapshot whose inputs_fingerprint is current, deletes rows of a
    snapshot that left the spine, and --full-refresh recomputes everything."""
    incremental, _ = warehouses
    work, raw = incremental.parent, incremental.parent.parent / "today"
    planted = f"voice_pc1 = {PLANTED}"
    with duckdb.connect(str(incremental)) as con:
        table = "marts.customer_voice_embedding_pcs"
        first = con.execute(f"select min(snapshot_date) from {table}").fetchone()[0]
        con.execute(f"update {table} set voice_pc1 = ? where snapshot_date = ?", [PLANTED, first])
        con.execute(
            f"insert into {table} by name select * replace (date '2019-01-01' as snapshot_date, 'gone' as "
            f"inputs_fingerprint) from {table} limit 3"
        )
    assert _voice_pcs(incremental, planted) > 0
    pcs = ["--select", "customer_voice_embedding_pcs"]
    run_dbt(["run", *pcs], vars=VARS, project_dir=PROJECT_DIR, env=dbt_env(work, raw))
    assert _voice_pcs(incremental, planted) > 0, "a snapshot whose inputs did not change was recomputed"
    assert _voice_pcs(incremental, "snapshot_date = '2019-01-01'") == 0, "a snapshot off the spine was kept"
    run_dbt(["run", *pcs, "--full-refresh"], vars=VARS, project_dir=PROJECT_DIR, env=dbt_env(work, raw))
    assert _voice_pcs(incremental, planted) == 0


def _read(db: Path, query: str) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(query).df()


def _staged(db: Path, table: str) -> pd.DataFrame:
    return _read(db, f"select * from staging.{table}")


def test_staging_built_before_incremental_staging_is_replaced_whole(warehouses: tuple[Path, Path]) -> None:
    """A base table from before incremental staging (no raw_row_hash, staging_version) is restaged whole on the
    next build, stale rows included, and equals a fresh build."""
    incremental, full = warehouses
    work, raw = incremental.parent, incremental.parent.parent / "today"
    table = "base_synthetic__orders"
    with duckdb.connect(str(incremental)) as con:
        con.execute(f"alter table staging.{table} drop column staging_version")
        con.execute(f"alter table staging.{table} drop column raw_row_hash")
        con.execute(
            f"insert into staging.{table} select * replace ('stale' as row_key) from staging.{table} limit 2"
        )
    run_dbt(["run", "--select", table], vars=VARS, project_dir=PROJECT_DIR, env=dbt_env(work, raw))
    pd.testing.assert_frame_equal(canonical(_staged(incremental, table)), canonical(_staged(full, table)))


def test_a_build_tests_only_the_key_groups_it_restaged(warehouses: tuple[Path, Path]) -> None:
    """Row tests of a staged table check the key groups the build restaged (macros/test_restaged_keys.sql):
    a bad value planted in a group whose raw rows did not change is not seen by a build that restages nothing,
    but `dbt test` and a build with test_all_snapshots read every row."""
    incremental, _ = warehouses
    work, raw = incremental.parent, incremental.parent.parent / "today"
    sessions = "staging.base_synthetic__sessions"
    with duckdb.connect(str(incremental)) as con:
        session_id, page_views = con.execute(
            f"select session_id, page_views from {sessions} where quarantine_reason is null order by session_id limit 1"
        ).fetchone()
        con.execute(f"update {sessions} set page_views = -7 where session_id = ?", [session_id])
    staged = ["--select", "base_synthetic__sessions", "stg_synthetic__sessions"]
    try:
        run_dbt(["build", *staged], vars=VARS, project_dir=PROJECT_DIR, env=dbt_env(work, raw))
        with duckdb.connect(str(incremental), read_only=True) as con:
            assert (
                con.execute(
                    f"select page_views from {sessions} where session_id = ?", [session_id]
                ).fetchone()[0]
                == -7
            )
            restaged = con.execute(
                "select count(*) filter (where row_key is null and not all_rows), count(*) from main.churn_staging_builds "
                "where model_id = 'model.ecom_churn.base_synthetic__sessions'"
            ).fetchone()
        assert restaged == (1, 1), "nothing changed: the record is one marker row, no keys"
        _every_row_fails("column_constraints_stg_synthetic__sessions", staged, work, raw)
    finally:
        with duckdb.connect(str(incremental)) as con:
            con.execute(
                f"update {sessions} set page_views = ? where session_id = ?", [page_views, session_id]
            )


def test_a_build_tests_only_the_texts_it_enriched(warehouses: tuple[Path, Path]) -> None:
    """Per-row tests of an enrichment model check the rows this invocation enriched (macros/test_enriched_rows.sql):
    bad values planted in an embedding enriched by an earlier build pass a build that embeds nothing new, but
    `dbt test` and a build with test_all_snapshots read every row and fail on both."""
    incremental, _ = warehouses
    work, raw = incremental.parent, incremental.parent.parent / "today"
    table = "enrichment.review_embeddings"
    with duckdb.connect(str(incremental)) as con:
        review_id, model, embedding = con.execute(
            f"select review_id, embedding_model, embedding from {table} order by review_id limit 1"
        ).fetchone()
        dim = len(embedding)
        con.execute(
            f"update {table} set embedding_model = null, "
            f"embedding = list_transform(embedding, lambda x: 'nan'::float)::float[{dim}] where review_id = ?",
            [review_id],
        )
    embeddings = ["--select", "review_embeddings"]
    try:
        run_dbt(["build", *embeddings], vars=VARS, project_dir=PROJECT_DIR, env=dbt_env(work, raw))
        with duckdb.connect(str(incremental), read_only=True) as con:
            assert con.execute(
                f"select embedding_model from {table} where review_id = ?", [review_id]
            ).fetchone() == (None,), "the review was embedded again: nothing planted was left to test"
        _every_row_fails("column_constraints_review_embeddings", embeddings, work, raw)
        _every_row_fails("voice_review_embeddings_dimension", embeddings, work, raw)
    finally:
        with duckdb.connect(str(incremental)) as con:
            con.execute(
                f"update {table} set embedding_model = ?, embedding = ? where review_id = ?",
                [model, embedding, review_id],
            )


def _volatile_rows_first_and_last(work: Path) -> dict[str, tuple[int, int]]:
    """Per snapshot table: (last rowid of the snapshots a nightly keeps, first rowid of those it replaces: the
    as-of snapshot, and for labels the snapshots whose horizon is open). Rowids follow the order of insertion."""
    nodes = json.loads((work / "target" / "manifest.json").read_text())["nodes"].values()
    kinds = {
        f"{node['schema']}.{node['alias']}": node["config"]["meta"].get("snapshot_inputs")
        for node in nodes
        if node["resource_type"] == "model"
    }
    with duckdb.connect(str(work / "churn.duckdb"), read_only=True) as con:
        tables = [
            schema_table
            for (schema_table,) in con.execute(
                "select table_schema || '.' || table_name from information_schema.columns "
                "where column_name in ('inputs_fingerprint', 'snapshot_date') and table_schema <> 'main' "
                "group by all having count(*) = 2"
            ).fetchall()
        ]
        spans = {}
        for table in tables:
            volatile = "is_as_of" + (" or not horizon_observed" if kinds.get(table) == "labels" else "")
            spans[table] = con.execute(
                f"select max(rowid) filter (where not volatile), min(rowid) filter (where volatile) from ("
                f"select rowid, snapshot_date in (select snapshot_date from intermediate.int_snapshot_spine "
                f"where {volatile}) as volatile from {table})"
            ).fetchone()
    return spans


# the bucketed snapshot models and the column each is cut into ranges of
BUCKET_COLUMNS = {
    "intermediate.int_customer_order_windows": "customer_id",
    "intermediate.int_customer_basket_breadth": "customer_id",
    "marts.customer_activity": "customer_id",
    "marts.customer_voice": "customer_id",
    "marts.customer_rfm": "snapshot_date",
    "ml.churn_training_set": "customer_id",
}


@pytest.fixture(scope="module")
def bucketed_refresh(warehouses: tuple[Path, Path]) -> Path:
    """The incremental warehouse after a full refresh of the bucketed models in several buckets each."""
    incremental, _ = warehouses
    work, raw = incremental.parent, incremental.parent.parent / "today"
    run_dbt(
        ["run", "--full-refresh", "--select", *(table.split(".")[1] for table in BUCKET_COLUMNS)],
        vars=VARS | BUCKETED,
        project_dir=PROJECT_DIR,
        env=dbt_env(work, raw),
    )
    return work


def test_a_full_build_writes_the_snapshots_a_nightly_replaces_last(
    warehouses: tuple[Path, Path], bucketed_refresh: Path
) -> None:
    """A nightly deletes the as-of snapshot (and for labels, the snapshots whose horizon is open). A full build
    writes them after all other rows, so that delete empties whole row groups instead of marking rows in each
    (whose checkpoint then rewrote every snapshot table in the first nightly after a full build). Checked on a
    full build in one statement per part, and on a full refresh of the bucketed marts in several buckets."""
    _, full = warehouses
    spans = _volatile_rows_first_and_last(full.parent)
    assert {"marts.churn_labels", "marts.customer_activity", "ml.churn_training_set"} <= set(spans)
    spans |= {
        table: span
        for table, span in _volatile_rows_first_and_last(bucketed_refresh).items()
        if table in BUCKET_COLUMNS
    }
    assert all(None not in spans[table] for table in ("marts.churn_labels", "ml.churn_training_set"))
    # a table of the as-of snapshot alone (churn_scores) has no kept rows
    misplaced = {table: span for table, span in spans.items() if span[1] is None or (span[0] or -1) > span[1]}
    assert not misplaced, f"rows of kept snapshots after those a nightly replaces: {misplaced}"


def test_buckets_write_ranges_of_their_column(bucketed_refresh: Path) -> None:
    """A bucket is a range of its column, so the statements write a table in ranges: in insertion order (rowid),
    every row of the past snapshots sits before every row with a greater value, except within one statement. A
    later model's range filter then skips row groups by their zone maps. Counted: the cuts in rowid order with
    only smaller values before and none after; hashed buckets would leave none."""
    with duckdb.connect(str(bucketed_refresh / "churn.duckdb"), read_only=True) as con:
        cuts = {
            table: con.execute(
                f"select count(*) filter (where before_max < after_min), count(*) from ("
                f"select max({column}) over (order by rowid rows between unbounded preceding and 1 preceding) "
                f"as before_max, min({column}) over (order by rowid rows between current row and unbounded "
                f"following) as after_min from {table} where snapshot_date not in ("
                f"select snapshot_date from intermediate.int_snapshot_spine where is_as_of))"
            ).fetchone()
            for table, column in BUCKET_COLUMNS.items()
        }
    assert all(rows > 0 for _, rows in cuts.values()), cuts
    # a few hundred rows per statement: several ranges, so several cuts (rfm: whole snapshots, at least two ranges)
    assert all(
        n >= (1 if BUCKET_COLUMNS[table] == "snapshot_date" else 3) for table, (n, _) in cuts.items()
    ), cuts
