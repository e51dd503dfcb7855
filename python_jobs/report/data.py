"""Read what the report shows from the warehouse. Every table is optional: a missing one becomes None.

Tables are read by their contracted columns (models/ml/_ml__models.yml, models/reports/_reports__models.yml);
there is no guessing of alternative column names.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields

import duckdb
import pandas as pd

log = logging.getLogger(__name__)

RISK_LIST_ROWS = 25
HIST_BINS = 20


@dataclass
class ReportData:
    """Frames the renderer draws; None = the table is not in this warehouse (section says so)."""

    metrics: pd.DataFrame | None = None  # one row per model: model, metric columns (wide)
    curves: pd.DataFrame | None = None  # model, curve, x, y
    risk_hist: pd.DataFrame | None = None  # bin_low, bin_high, risk_tier, customers
    risk_tiers: pd.DataFrame | None = None  # risk_tier, customers, revenue_at_risk
    risk_top: pd.DataFrame | None = None  # top of rpt_churn_risk
    segments: pd.DataFrame | None = None  # rpt_segment_summary
    seg_crosstab: pd.DataFrame | None = None  # rfm_segment_name, fused_segment_name, customers
    topics: pd.DataFrame | None = None  # month, topic, mentions
    effects: pd.DataFrame | None = None  # rpt_intervention_effect
    queue: pd.DataFrame | None = None  # action, arm, customers, cost, expected_value
    headline: str | None = None
    model_caveats: list[str] = field(
        default_factory=list
    )  # what a reader must know before trusting the models
    notes: list[str] = field(default_factory=list)

    def available(self) -> list[str]:
        return [f.name for f in fields(self) if isinstance(getattr(self, f.name), pd.DataFrame)]


def relation_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    return bool(row and row[0])


def _query(con: duckdb.DuckDBPyConnection, sql: str, what: str, notes: list[str]) -> pd.DataFrame | None:
    try:
        return con.execute(sql).df()
    except duckdb.Error as exc:
        log.warning("report: could not read %s: %s", what, exc)
        notes.append(f"{what}: could not be read ({type(exc).__name__})")
        return None


METRIC_COLUMNS = (
    "roc_auc",
    "pr_auc",
    "top_decile_lift",
    "top_decile_capture",
    "brier",
    "log_loss",
    "auc_diff_vs_baseline",
    "auc_diff_ci_low",
    "auc_diff_ci_high",
    "n_rows",
    "base_rate",
)


# 'baseline (logreg)': how a model is labelled in the tables and chart legends.
MODEL_LABEL = "feature_set || ' (' || model_kind || ')'"
# Selected baseline/enhanced models, the champion and the peers (not every candidate that lost validation).
SHOWN_MODELS = "where is_selected or is_champion or feature_set = 'peer'"


def _metrics(con: duckdb.DuckDBPyConnection, notes: list[str]) -> pd.DataFrame | None:
    """One row per shown model with its headline metrics (wide)."""
    if not relation_exists(con, "ml", "churn_model_metrics"):
        return None
    return _query(
        con,
        f"select {MODEL_LABEL} as model, is_champion, {', '.join(METRIC_COLUMNS)} from ml.churn_model_metrics "
        f"{SHOWN_MODELS} order by feature_set = 'peer', 1",
        "ml.churn_model_metrics",
        notes,
    )


def _model_caveats(con: duckdb.DuckDBPyConnection, notes: list[str]) -> list[str]:
    """Plain sentences from rpt_model_comparison: the champion beaten on test, its verdict against the best peer
    and the baseline (judged on the CI), an evaluation too small to trust, no usable text."""
    if not relation_exists(con, "reports", "rpt_model_comparison"):
        return []
    rows = _query(
        con,
        "select * from reports.rpt_model_comparison order by display_order",
        "rpt_model_comparison",
        notes,
    )
    if rows is None or rows.empty:
        return []
    out = [str(n) for n in rows["run_note"].dropna().unique()]
    out += [
        f"Caution: {n}."
        for n in rows.loc[~rows["is_evaluation_sufficient"], "evaluation_note"].dropna().unique()
    ]
    for r in rows[rows["is_champion"]].itertuples():
        out.append(f"The scoring model, {r.model_label}: {r.champion_note}")
        peer = {"better": "beats", "tie": "ties with", "worse": "is worse than"}.get(r.vs_best_peer)
        if peer:
            out.append(
                f"{r.model_label} {peer} the best single-column peer on the test snapshot (ROC-AUC difference "
                f"{r.auc_diff_vs_best_peer:+.3f}, 95% CI {r.auc_diff_vs_best_peer_ci_low:+.3f} to "
                f"{r.auc_diff_vs_best_peer_ci_high:+.3f})."
            )
    enhanced = rows[(rows["feature_set"] == "enhanced") & rows["is_selected"]]
    for r in enhanced.itertuples():
        verdict = "adds" if r.auc_diff_ci_low > 0 else "does not measurably add"
        out.append(
            f"Text {verdict} to behaviour: {r.model_label} minus the selected baseline, ROC-AUC "
            f"{r.auc_diff_vs_baseline:+.3f} (95% CI {r.auc_diff_ci_low:+.3f} to {r.auc_diff_ci_high:+.3f})."
        )
    return out


def _curves(con: duckdb.DuckDBPyConnection, notes: list[str]) -> pd.DataFrame | None:
    if not relation_exists(con, "ml", "churn_model_curves"):
        return None
    return _query(
        con,
        f"select {MODEL_LABEL} as model, feature_set, curve, x, y from ml.churn_model_curves "
        f"where model_id in (select model_id from ml.churn_model_metrics {SHOWN_MODELS}) "
        "order by model, curve, point",
        "ml.churn_model_curves",
        notes,
    )


def _risk(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    """rpt_churn_risk, or ml.churn_scores when only the models were built (both carry these columns)."""
    rel = next(
        (
            f"{s}.{n}"
            for s, n in (("reports", "rpt_churn_risk"), ("ml", "churn_scores"))
            if relation_exists(con, s, n)
        ),
        None,
    )
    if rel is None:
        return
    data.risk_hist = _query(
        con,
        f"""
        select least(floor(churn_probability * {HIST_BINS}), {HIST_BINS - 1})::int as bin,
               coalesce(risk_tier, 'unscored') as risk_tier, count(*) as customers
        from {rel} where churn_probability is not null group by all order by 1, 2
        """,
        f"{rel} (risk distribution)",
        data.notes,
    )
    data.risk_tiers = _query(
        con,
        f"select coalesce(risk_tier, 'unscored') as risk_tier, count(*) as customers, "
        f"sum(revenue_at_risk)::double as revenue_at_risk, avg(churn_probability) as mean_probability "
        f"from {rel} group by all order by mean_probability desc",
        f"{rel} (tiers)",
        data.notes,
    )
    data.risk_top = _query(
        con,
        f"select * exclude (snapshot_date) from {rel} "
        f"order by revenue_at_risk desc nulls last, churn_probability desc limit {RISK_LIST_ROWS}",
        f"{rel} (top)",
        data.notes,
    )


def load_report_data(con: duckdb.DuckDBPyConnection) -> ReportData:
    data = ReportData()
    data.metrics = _metrics(con, data.notes)
    data.model_caveats = _model_caveats(con, data.notes)
    data.curves = _curves(con, data.notes)
    _risk(con, data)
    if relation_exists(con, "reports", "rpt_segment_summary"):
        data.segments = _query(
            con, "select * from reports.rpt_segment_summary order by 1, 2", "rpt_segment_summary", data.notes
        )
    if relation_exists(con, "ml", "customer_segments"):
        data.seg_crosstab = _query(
            con,
            """
            select rfm_segment_id, rfm_segment_name, fused_segment_id, fused_segment_name, count(*) as customers
            from ml.customer_segments where fused_segment_id is not null group by all order by 1, 3
            """,
            "ml.customer_segments (cross-tab)",
            data.notes,
        )
    if relation_exists(con, "reports", "rpt_complaint_topics"):
        data.topics = _query(
            con,
            "select month, topic, mentions from reports.rpt_complaint_topics order by month, topic",
            "rpt_complaint_topics",
            data.notes,
        )
    if relation_exists(con, "reports", "rpt_intervention_effect"):
        data.effects = _query(
            con, "select * from reports.rpt_intervention_effect", "rpt_intervention_effect", data.notes
        )
    if relation_exists(con, "reports", "rpt_intervention_queue"):
        data.queue = _query(
            con,
            """
            select action, arm, count(*) as customers, sum(unit_cost) as cost,
                   sum(expected_value) as expected_value
            from reports.rpt_intervention_queue where is_selected group by all order by 1, 2
            """,
            "rpt_intervention_queue",
            data.notes,
        )
    try:
        from python_jobs.report.headline import headline_text

        data.headline = headline_text(con)
    except duckdb.Error as exc:
        data.notes.append(f"headline: {exc}")
    return data
