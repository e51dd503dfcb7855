"""The HTML report: renders from warehouse tables, degrades when tables are missing, draws in Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from python_jobs.report.commands import render_report
from python_jobs.report.data import load_report_data
from python_jobs.report.headline import headline_text
from python_jobs.report.render import render_html

REPO = Path(__file__).resolve().parents[2]
CONTRACT_FILES = ("models/ml/_ml__models.yml", "models/reports/_reports__models.yml")


def _contracts() -> dict[str, list[tuple[str, str]]]:
    """(column, data_type) of every ml and report model, from their YAML contracts."""
    out = {}
    for f in CONTRACT_FILES:
        for model in yaml.safe_load((REPO / f).read_text())["models"]:
            out[model["name"]] = [
                (c["name"], c["data_type"]) for c in model.get("columns", []) if "data_type" in c
            ]
    return out


CONTRACTS = _contracts()


def create_contracted(con: duckdb.DuckDBPyConnection, relation: str, df: pd.DataFrame) -> None:
    """Create `relation` with exactly its contracted columns and types; `df` fills some of them (others null).

    A fixture column outside the contract is an error, so fixtures cannot drift from what dbt builds."""
    schema, name = relation.split(".")
    contract = CONTRACTS[name]
    unknown = set(df.columns) - {c for c, _ in contract}
    assert not unknown, f"{relation}: fixture columns not in the contract: {sorted(unknown)}"
    con.execute(f"create schema if not exists {schema}")
    con.execute(f"create table {relation} ({', '.join(f'{c} {t}' for c, t in contract)})")
    con.register("df", df)
    con.execute(f"insert into {relation} by name select * from df")
    con.unregister("df")


MODELS = (  # model_id, feature_set, model_kind, is_selected, is_champion, roc_auc, pr_auc, curve power
    ("m-base", "baseline", "logreg", True, False, 0.70, 0.40, 0.5),
    ("m-enh", "enhanced", "hgb", True, True, 0.80, 0.50, 0.3),
    ("m-lost", "enhanced", "logreg", False, False, 0.75, 0.45, 0.4),  # lost validation: not shown
)


def _metrics() -> pd.DataFrame:
    cols = ["model_id", "feature_set", "model_kind", "is_selected", "is_champion", "roc_auc", "pr_auc"]
    return pd.DataFrame([m[:7] for m in MODELS], columns=cols).assign(
        run_id="r1",
        split="test",
        n_rows=400,
        base_rate=0.3,
        brier=0.2,
        eval_snapshot_date=pd.Timestamp("2025-10-01"),
    )


def _curves() -> pd.DataFrame:
    grid = np.linspace(0, 1, 21)
    rows = []
    for model_id, feature_set, kind, *_, power in MODELS:
        pts = [("roc", x, x**power) for x in grid]
        pts += [("pr", x, 0.9 - 0.5 * x**power) for x in grid]
        pts += [("lift", x, 1 + (1 - x) * (1 / power - 1)) for x in grid[1:]]
        pts += [("calibration", x, min(1.0, x * (1 + power / 5))) for x in grid[1::2]]
        rows += [(model_id, feature_set, kind, c, i, x, y) for i, (c, x, y) in enumerate(pts)]
    cols = ["model_id", "feature_set", "model_kind", "curve", "point", "x", "y"]
    return pd.DataFrame(rows, columns=cols).assign(run_id="r1")


def make_warehouse(path: Path, n: int = 400) -> Path:
    rng = np.random.default_rng(0)
    p = rng.beta(1.5, 5, n)
    tier = np.where(p >= 0.5, "high", np.where(p >= 0.25, "medium", "low"))
    rule = {
        "high": "churn probability >= 0.50",
        "medium": "churn probability 0.25 to 0.50",
        "low": "p < 0.25",
    }
    risk = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "snapshot_date": pd.Timestamp("2026-01-01"),
            "churn_probability": p,
            "risk_tier": tier,
            "risk_tier_rule": [rule[t] for t in tier],
            "customer_status": np.where(np.arange(n) % 4 == 0, "lapsed", "active"),
            "days_since_last_order": np.where(np.arange(n) % 4 == 0, 300, 20),
            "usual_order_gap_days": np.where(np.arange(n) % 3 == 0, np.nan, 30.0),
            "horizon_days": 90,
            "lookback_days": 365,
            "currency": "GBP",
            "revenue_at_risk": p * rng.gamma(2, 300, n),
            "reason_1": [
                ["Long since last order", "Negative reviews", "Late deliveries"][i % 3] for i in range(n)
            ],
            "reason_1_feature": [
                ["recency_days", "negative_share", "late_delivery_share"][i % 3] for i in range(n)
            ],
            "reason_2": "Fewer sessions",
            "reason_2_feature": "sessions_30d",
            "rfm_segment_name": "Mid-value, lapsing",
            "recommended_action": "service_recovery_call",
        }
    )
    seg = pd.DataFrame(
        {
            "segmentation": ["rfm"] * 3 + ["fused"] * 4,
            "segment_id": [1, 2, 3, 1, 2, 3, 4],
            "segment_name": [
                "High-value, loyal regulars",
                "Mid-value, occasional buyers",
                "Low-value, lapsing",
                "High-value, loyal regulars",
                "Mid-value, unhappy with delivery",
                "Mid-value, occasional buyers",
                "Low-value, lapsing",
            ],
            "customers": [100, 200, 100, 90, 60, 150, 100],
            "mean_monetary": [2000.0, 400.0, 60.0, 2100.0, 500.0, 380.0, 55.0],
            "mean_sentiment": [0.5, 0.1, -0.1, 0.5, -0.6, 0.2, -0.1],
            "churn_rate": [0.1, 0.3, 0.7, 0.1, 0.5, 0.3, 0.7],
            "k": [3, 3, 3, 4, 4, 4, 4],
            "silhouette": [0.41] * 3 + [0.33] * 4,
        }
    )
    cross = pd.DataFrame(
        {
            "customer_id": risk["customer_id"],
            "rfm_segment_id": 1,
            "rfm_segment_name": "A",
            "fused_segment_id": np.arange(n) % 2 + 1,
            "fused_segment_name": np.where(np.arange(n) % 2, "B", "C"),
        }
    )
    topics = pd.DataFrame(
        [
            (pd.Timestamp(f"2025-{m:02d}-01"), t, int(rng.integers(5, 50)))
            for m in range(1, 13)
            for t in ("delivery", "quality", "price")
        ],
        columns=["month", "topic", "mentions"],
    )
    effects = pd.DataFrame(
        {
            "action": ["delivery_voucher", "discount", "delivery_voucher"],
            "subgroup_type": ["all", "all", "campaign"],
            "subgroup": ["all", "all", "c1"],
            "n_treated": [900, 850, 100],
            "n_control": [100, 95, 12],
            "retention_treated": [0.62, 0.55, 0.5],
            "retention_control": [0.52, 0.53, 0.4],
            "effect": [0.10, 0.02, 0.10],
            "ci_low": [0.0, -0.08, -0.2],
            "ci_high": [0.2, 0.12, 0.4],
        }
    )
    queue = risk[(risk["risk_tier"] != "low") & (risk["customer_status"] == "active")].copy()
    queue = queue.sort_values("revenue_at_risk", ascending=False).reset_index(drop=True)
    queue = queue.assign(
        queue_rank=np.arange(1, len(queue) + 1),
        action=np.where(np.arange(len(queue)) % 2, "delivery_voucher", "loyalty_perk"),
        unit_cost=2.0,
        effect_used=0.05,
        effect_source="assumed",
        expected_value=lambda d: d["revenue_at_risk"] * 0.05 - 2.0,
        arm=np.where(np.arange(len(queue)) % 10 == 1, "control", "treatment"),
        is_selected=True,
    )[
        ["customer_id", "snapshot_date", "queue_rank", "risk_tier", "churn_probability", "revenue_at_risk"]
        + ["days_since_last_order", "usual_order_gap_days", "action", "unit_cost", "effect_used"]
        + ["effect_source", "expected_value", "arm", "is_selected", "horizon_days", "currency"]
    ]
    con = duckdb.connect(str(path))
    for name, df in {
        "reports.rpt_intervention_queue": queue,
        "reports.rpt_churn_risk": risk,
        "reports.rpt_segment_summary": seg,
        "ml.customer_segments": cross,
        "reports.rpt_complaint_topics": topics,
        "reports.rpt_intervention_effect": effects,
        "ml.churn_model_curves": _curves(),
        "ml.churn_model_metrics": _metrics(),
    }.items():
        create_contracted(con, name, df)
    con.close()
    return path


@pytest.fixture
def full_warehouse(tmp_path: Path) -> Path:
    return make_warehouse(tmp_path / "w.duckdb")


def test_report_renders_every_section_self_contained(full_warehouse: Path, tmp_path: Path) -> None:
    out = render_report(db=full_warehouse, out=tmp_path / "r.html", raw_path=tmp_path)
    html = out.read_text()
    for section in ("models", "risk", "segments", "topics", "interventions", "risk-list"):
        assert f'id="{section}"' in html
    assert "not in this warehouse" not in html
    assert "enhanced (hgb)" in html and "enhanced (logreg)" not in html  # candidates that lost are not shown
    # no external resources: nothing is fetched, no src/href to the network
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html
    assert html.count('<svg class="chart"') >= 8
    assert "Mid-value, unhappy with delivery" in html
    assert "RFM segment 1 &#x27;A&#x27; splits: 50% to" in html


def test_report_states_its_context_on_every_section(full_warehouse: Path, tmp_path: Path) -> None:
    html = render_report(db=full_warehouse, out=tmp_path / "r.html", raw_path=tmp_path).read_text()
    header = html[html.index("<header>") : html.index("</header>")]
    for fact in (
        "As of <b>2026-01-01</b>",
        "evaluated on <b>2025-10-01</b>",
        "horizon <b>90 days</b>",
        "currency <b>GBP</b>",
        "population <b>400</b> customers with an order in the 365 days before",
    ):
        assert fact in header, fact
    assert "position:sticky" in html  # the header stays on screen while scrolling
    for section in ("risk-list", "risk", "models", "segments"):
        body = html[html.index(f'<section id="{section}">') :]
        line = re.search(r'<p class="ctx-line">([^<]*)</p>', body[: body.index("</section>")])
        assert line, section
    risk = html[html.index('<section id="risk">') :]
    assert "as of 2026-01-01 · churn = no order in the next 90 days · amounts in GBP · 400 customers" in risk


def test_tiers_say_what_they_mean_and_lapsed_customers_are_not_acted_on(full_warehouse: Path) -> None:
    with duckdb.connect(str(full_warehouse), read_only=True) as con:
        data = load_report_data(con)
    tiers = data.risk_tiers.set_index("risk_tier")
    assert tiers.loc["high", "risk_tier_rule"] == "churn probability >= 0.50"
    assert tiers.loc["high", ["active", "lapsed"]].tolist() == [15, 7]
    page = render_html(data)
    assert "churn probability &gt;= 0.50" in page and "15 active, 7 lapsed" in page
    assert "Already lapsed: 40 high- or medium-risk customers not in the queue" in page
    listed = data.actions["customer_id"]
    assert data.actions["queue_rank"].is_monotonic_increasing
    with duckdb.connect(str(full_warehouse), read_only=True) as con:
        status = con.execute("select customer_id, customer_status from reports.rpt_churn_risk").df()
    assert set(status.set_index("customer_id").loc[listed, "customer_status"]) == {"active"}


def test_control_group_rows_carry_no_cost_or_expected_value(full_warehouse: Path) -> None:
    with duckdb.connect(str(full_warehouse), read_only=True) as con:
        data = load_report_data(con)
    control = data.queue[data.queue["arm"] == "control"]
    assert len(control) == 1 and control["cost"].isna().all() and control["expected_value"].isna().all()
    assert control["action"].isna().all()  # one control group, not a row per action
    page = render_html(data)
    rows = re.findall(r'<tr class="control">(.*?)</tr>', page)
    assert rows and all("none (held out to measure the effect)" in r for r in rows)
    for r in rows:  # no cost, uplift or expected value in a control row: only empty numeric cells
        assert "pts" not in r and "<td>" not in r and 'data-v="2.0"' not in r


def test_tables_use_plain_labels_keep_raw_names_and_never_show_nan_or_microseconds() -> None:
    from python_jobs.report.cells import table

    frame = pd.DataFrame(
        {
            "brier": [0.123, np.nan],
            "auc_diff_ci_low": [-0.00001, 0.02],
            "last_complaint_at": [pd.Timestamp("2025-03-04 05:06:07.123456"), pd.NaT],
            "note": ["nan", None],
            "churn_probability": [0.853, 0.05],
            "effect": [0.114, pd.NA],
        }
    )
    html = table(frame.astype({"effect": "object"}))
    assert '<th class="" title="brier">Brier score (lower = better)</th>' in html
    assert 'title="auc_diff_ci_low">vs baseline, 95% CI low<' in html
    assert "2025-03-04 05:06<" in html and ".123456" not in html and ":07" not in html
    for bad in ("NaT", "nan", "None", "<NA>", "-0.000"):
        assert bad not in html.replace('title="', ""), bad
    assert ">85%<" in html and ">+11.4 pts<" in html


def test_missing_inputs_are_said_as_what_this_source_lacks(tmp_path: Path) -> None:
    """A source without reviews, tickets or interventions: the sections say so instead of 'not built yet'."""
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        create_contracted(con, "reports.rpt_complaint_topics", pd.DataFrame({"topic": []}))
        create_contracted(con, "reports.rpt_intervention_effect", pd.DataFrame({"action": []}))
        con.execute("create schema marts")
        for t in ("fct_reviews", "fct_support_tickets", "fct_interventions"):
            con.execute(f"create table marts.{t} (id varchar)")
        page = render_html(load_report_data(con))
    topics = page[page.index('<section id="topics">') :]
    effects = page[page.index('<section id="interventions">') :]
    assert "This source has no reviews or support tickets" in topics[: topics.index("</section>")]
    assert "This source has no interventions" in effects[: effects.index("</section>")]
    for section in (topics[: topics.index("</section>")], effects[: effects.index("</section>")]):
        assert "not in this warehouse" not in section


def test_report_degrades_on_an_empty_warehouse(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()
    html = render_report(db=db, out=tmp_path / "r.html").read_text()
    assert html.count("not in this warehouse") >= 6
    assert "No churn scores" in html


def test_planted_effects_shown_beside_measured(full_warehouse: Path, tmp_path: Path) -> None:
    pd.DataFrame(
        {
            "campaign_id": ["c1", "c2"],
            "action": ["delivery_voucher", "discount"],
            "planted_effect": [0.09, 0.03],
        }
    ).to_parquet(tmp_path / "truth_campaigns.parquet")
    html = render_report(db=full_warehouse, out=tmp_path / "r.html", raw_path=tmp_path).read_text()
    assert "planted effect +0.090" in html and "planted_effect" in html


def test_headline_text(full_warehouse: Path) -> None:
    con = duckdb.connect(str(full_warehouse), read_only=True)
    text = headline_text(con)
    con.close()
    assert text.startswith("High churn risk (churn probability >= 0.50 within 90 days): 22 customers, ")
    assert "GBP revenue at risk" in text and "; 15 still active, 7 already lapsed." in text
    assert "Top drivers: sessions_30d (22);" in text
    assert "Next campaign: 102 active customers at risk, cost 204 GBP" in text
    assert "12 more held out as the control group." in text
    assert "Best action: delivery_voucher" in text


def test_render_html_on_frames_without_warehouse() -> None:
    from python_jobs.report.data import ReportData

    shown = _curves().query("model_id != 'm-lost'")
    curves = shown.assign(
        model=shown["feature_set"] + " (" + shown["model_kind"] + ")"
    )  # as data.py labels them
    html = render_html(ReportData(curves=curves[["model", "feature_set", "curve", "x", "y"]]))
    assert html.count("<polyline") == 8


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def test_report_draws_in_headless_chromium(full_warehouse: Path, tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip("Chromium not installed (Debian packages chromium, chromium-driver)")
    out = render_report(db=full_warehouse, out=tmp_path / "r.html", raw_path=tmp_path)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'chrome'}",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=2000",
            "--dump-dom",
            out.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    total = int(re.search(r'data-charts-total="(\d+)"', dom).group(1))
    drawn = int(re.search(r'data-charts-drawn="(\d+)"', dom).group(1))
    assert total >= 8 and drawn == total
    assert 'data-render="ok"' in dom
    console_errors = [
        ln for ln in proc.stderr.splitlines() if "CONSOLE" in ln and ("ERROR" in ln or "Uncaught" in ln)
    ]
    assert not console_errors, console_errors
    assert elapsed < 60


def test_headline_uses_reason_features_and_their_descriptions(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "h.duckdb"))
    con.execute("create schema reference")
    scores = pd.DataFrame(
        [
            ("a", 0.9, "high", 100.0, "recency_days", "days_overdue", None),
            ("b", 0.8, "high", 50.0, "recency_days", None, None),
            ("c", 0.1, "low", 5.0, "tenure_days", None, None),
        ],
        columns=["customer_id", "churn_probability", "risk_tier", "revenue_at_risk"]
        + [f"reason_{i}_feature" for i in (1, 2, 3)],
    )
    create_contracted(con, "ml.churn_scores", scores)
    con.execute(
        "create table reference.churn_features as select * from (values "
        "('recency_days', 'Days since the last valid order')) t(feature_name, description)"
    )
    con.execute(
        "create table reference.playbook_actions as select * from (values ('loyalty_perk', 0.03)) "
        "t(action, assumed_effect)"
    )
    text = headline_text(con)
    con.close()
    assert "High churn risk: 2 customers, 150 revenue at risk (155 across all scored customers)." in text
    assert "Top drivers: Days since the last valid order (2); days_overdue (1)." in text
    assert "Best action (assumed, not yet measured): loyalty_perk (+3 pts)." in text


@pytest.mark.e2e
def test_report_renders_from_a_warehouse_dbt_built(e2e_world: Path) -> None:
    """The shared e2e build (conftest.e2e_world) rendered its report: every section from real tables."""
    with duckdb.connect(str(e2e_world / "churn.duckdb"), read_only=True) as con:
        data = load_report_data(con)
    assert data.notes == []
    assert set(data.available()) == {
        "metrics", "curves", "risk_hist", "risk_tiers", "risk_top", "segments", "seg_crosstab", "topics",
        "effects", "queue", "actions", "lapsed",
    }  # fmt: skip
    assert {"as_of_date", "eval_snapshot_date", "horizon_days", "lookback_days", "customers"} <= set(
        data.context
    )
    assert data.headline.startswith("High churn risk (churn probability >= 0.50 within ")
    html = (e2e_world / "report.html").read_text()
    for section in ("models", "risk", "segments", "topics", "interventions", "risk-list"):
        assert f'id="{section}"' in html
    assert "not in this warehouse" not in html and "could not be read" not in html
    assert html.count('<svg class="chart"') >= 8


def test_report_says_when_the_models_cannot_be_trusted(tmp_path: Path) -> None:
    """A champion beaten on test, a peer tie, no measurable text lift and a too-small test snapshot all reach
    the page in words, taken from rpt_model_comparison."""
    db = tmp_path / "w.duckdb"
    rows = pd.DataFrame(
        {
            "model_id": ["m-enh", "m-base", "peer_rfm_score"],
            "model_label": ["enhanced (hgb)", "baseline (logreg)", "peer: rfm_score"],
            "feature_set": ["enhanced", "baseline", "peer"],
            "is_selected": [True, True, False],
            "is_champion": [True, False, False],
            "auc_diff_vs_baseline": [-0.01, 0.0, -0.03],
            "auc_diff_ci_low": [-0.03, 0.0, -0.05],
            "auc_diff_ci_high": [0.01, 0.0, -0.01],
            "auc_diff_vs_best_peer": [0.004, 0.014, 0.0],
            "auc_diff_vs_best_peer_ci_low": [-0.01, 0.001, 0.0],
            "auc_diff_vs_best_peer_ci_high": [0.02, 0.03, 0.0],
            "vs_best_peer": ["tie", "better", None],
            "champion_note": [
                "Chosen on validation, but baseline (logreg) has a higher ROC-AUC on the test snapshot (0.721 vs 0.711).",
                None,
                None,
            ],
            "is_evaluation_sufficient": [False, False, False],
            "evaluation_note": [
                "only 4 non-churners on the test snapshot (minimum 50): treat these metrics as indicative only"
            ]
            * 3,
            "display_order": [1, 2, 5],
        }
    )
    with duckdb.connect(str(db)) as con:
        create_contracted(con, "reports.rpt_model_comparison", rows)
        page = render_html(load_report_data(con))
    assert "only 4 non-churners on the test snapshot" in page
    assert "baseline (logreg) has a higher ROC-AUC on the test snapshot" in page
    assert "ties with the best single-column peer" in page
    assert "Text does not measurably add to behaviour" in page


def test_report_of_another_engine_equals_the_duckdb_report(full_warehouse: Path, tmp_path: Path) -> None:
    """PostgreSQL and Spark: the report's tables are copied into DuckDB (report/engine_tables.py) and the page
    is the one the same tables give on DuckDB; source tables are counted where they live, not copied."""
    from python_jobs.engines.warehouse_io import MemoryWarehouse
    from python_jobs.report.engine_tables import report_tables

    with duckdb.connect(str(full_warehouse)) as con:
        con.execute("create schema marts; create table marts.fct_reviews as select range as id from range(3)")
        names = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        engine = MemoryWarehouse(
            {(s, t): con.sql(f'select * from "{s}"."{t}"').to_arrow_table() for s, t in names}
        )
    copy, counts = report_tables(engine)
    assert counts == {"reviews": 3}
    assert ("marts",) not in copy.execute(
        "select distinct table_schema from information_schema.tables"
    ).fetchall()
    on_duckdb = render_report(db=full_warehouse, out=tmp_path / "duckdb.html", raw_path=tmp_path).read_text()
    on_engine = render_report(out=tmp_path / "engine.html", raw_path=tmp_path, engine=engine).read_text()
    assert on_engine == on_duckdb
