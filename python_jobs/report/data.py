"""Read what the report shows from the warehouse. Every table is optional: a missing one becomes None."""

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
    notes: list[str] = field(default_factory=list)

    def available(self) -> list[str]:
        return [f.name for f in fields(self) if isinstance(getattr(self, f.name), pd.DataFrame)]


def relation_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    return bool(row and row[0])


def columns(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> list[str]:
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position",
        [schema, name],
    ).fetchall()
    return [r[0] for r in rows]


def _pick(cols: list[str], *candidates: str) -> str | None:
    return next((c for c in candidates if c in cols), None)


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


def _model_label_sql(cols: list[str]) -> str:
    """'baseline (logreg)' from feature_set/model_kind when present, else the model id."""
    if "feature_set" in cols and "model_kind" in cols:
        return "feature_set || ' (' || model_kind || ')'"
    return _pick(cols, "model", "model_name", "variant", "model_id") or "'model'"


def _shown_models_filter(con: duckdb.DuckDBPyConnection) -> str:
    """Selected baseline/enhanced models and the peers (not every candidate that lost validation)."""
    if not relation_exists(con, "ml", "churn_model_metrics"):
        return ""
    cols = columns(con, "ml", "churn_model_metrics")
    if "is_selected" in cols and "model_id" in cols and "feature_set" in cols:
        return (
            "where model_id in (select model_id from ml.churn_model_metrics "
            "where is_selected or is_champion or feature_set = 'peer')"
        )
    return ""


def _metrics(con: duckdb.DuckDBPyConnection, notes: list[str]) -> pd.DataFrame | None:
    """One row per shown model with its headline metrics (wide)."""
    if not relation_exists(con, "ml", "churn_model_metrics"):
        return None
    cols = columns(con, "ml", "churn_model_metrics")
    label = _model_label_sql(cols)
    flags = [c for c in ("is_champion",) if c in cols]
    metrics = [c for c in METRIC_COLUMNS if c in cols]
    if not metrics:  # long format: model, metric, value
        metric, value = _pick(cols, "metric", "metric_name"), _pick(cols, "value", "metric_value")
        if not (metric and value):
            notes.append(f"ml.churn_model_metrics: unexpected columns {cols}")
            return None
        df = _query(
            con,
            f"select {label} as model, {metric}::varchar as metric, {value}::double as value "
            "from ml.churn_model_metrics",
            "ml.churn_model_metrics",
            notes,
        )
        if df is None:
            return None
        wide = df.pivot_table(index="model", columns="metric", values="value", aggfunc="first").reset_index()
        wide.columns.name = None
        return wide
    order = "case when feature_set = 'peer' then 1 else 0 end, " if "feature_set" in cols else ""
    return _query(
        con,
        f"select {label} as model, {', '.join(flags + metrics)} from ml.churn_model_metrics "
        f"{_shown_models_filter(con)} order by {order}1",
        "ml.churn_model_metrics",
        notes,
    )


def _curves(con: duckdb.DuckDBPyConnection, notes: list[str]) -> pd.DataFrame | None:
    if not relation_exists(con, "ml", "churn_model_curves"):
        return None
    cols = columns(con, "ml", "churn_model_curves")
    curve = _pick(cols, "curve", "curve_type", "kind", "curve_name")
    x, y = _pick(cols, "x", "x_value"), _pick(cols, "y", "y_value")
    if not (curve and x and y):
        notes.append(f"ml.churn_model_curves: unexpected columns {cols}")
        return None
    order = _pick(cols, "point", "point_index", "idx", "seq", "step")
    return _query(
        con,
        f"select {_model_label_sql(cols)} as model, {curve}::varchar as curve, {x}::double as x, "
        f"{y}::double as y from ml.churn_model_curves {_shown_models_filter(con)} "
        f"order by 1, 2, {order or '3'}",
        "ml.churn_model_curves",
        notes,
    )


def _risk(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    if relation_exists(con, "reports", "rpt_churn_risk"):
        rel = "reports.rpt_churn_risk"
    elif relation_exists(con, "ml", "churn_scores"):
        rel = "ml.churn_scores"
    else:
        return
    schema, name = rel.split(".")
    cols = columns(con, schema, name)
    p = _pick(cols, "churn_probability", "probability", "p_churn")
    tier = _pick(cols, "risk_tier", "tier")
    rev = _pick(cols, "revenue_at_risk")
    if not p:
        data.notes.append(f"{rel}: no probability column")
        return
    tier_sql = f"coalesce({tier}::varchar, 'unscored')" if tier else "'all'"
    data.risk_hist = _query(
        con,
        f"""
        select least(floor({p} * {HIST_BINS}), {HIST_BINS - 1})::int as bin, {tier_sql} as risk_tier,
               count(*) as customers
        from {rel} where {p} is not null group by all order by 1, 2
        """,
        f"{rel} (risk distribution)",
        data.notes,
    )
    rev_sql = f"sum({rev})" if rev else "null"
    data.risk_tiers = _query(
        con,
        f"select {tier_sql} as risk_tier, count(*) as customers, {rev_sql}::double as revenue_at_risk, "
        f"avg({p}) as mean_probability from {rel} group by all order by mean_probability desc",
        f"{rel} (tiers)",
        data.notes,
    )
    data.risk_top = _query(
        con,
        f"select * exclude (snapshot_date) from {rel} order by {rev or p} desc nulls last, {p} desc "
        f"limit {RISK_LIST_ROWS}"
        if "snapshot_date" in cols
        else f"select * from {rel} order by {rev or p} desc nulls last, {p} desc limit {RISK_LIST_ROWS}",
        f"{rel} (top)",
        data.notes,
    )


def load_report_data(con: duckdb.DuckDBPyConnection) -> ReportData:
    data = ReportData()
    data.metrics = _metrics(con, data.notes)
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
            from ml.customer_segments group by all order by 1, 3
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
