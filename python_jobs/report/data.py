"""Read what the report shows from the warehouse. Every table is optional: a missing one becomes None.

Tables are read by their contracted columns (models/ml/_ml__models.yml, models/reports/_reports__models.yml);
there is no guessing of alternative column names.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields

import duckdb
import pandas as pd

from python_jobs.report.headline import headline_text
from python_jobs.report.relations import risk_relation, table_exists
from python_jobs.warehouse import first_row

log = logging.getLogger(__name__)

RISK_LIST_ROWS = 25
HIST_BINS = 20
# Optional source tables whose absence explains an empty section ("this source has no reviews").
SOURCE_TABLES = {
    "reviews": "fct_reviews",
    "support tickets": "fct_support_tickets",
    "interventions": "fct_interventions",
}


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
    actions: pd.DataFrame | None = None  # top of rpt_intervention_queue by rank, with the customer's reasons
    lapsed: pd.DataFrame | None = None  # risk_tier, customers, revenue_at_risk, days since the last order
    context: dict[str, object] = field(
        default_factory=dict
    )  # as_of_date, eval_snapshot_date, horizon_days, ...
    source_rows: dict[str, int] = field(
        default_factory=dict
    )  # optional source table -> rows in the warehouse
    headline: str | None = None
    model_caveats: list[str] = field(
        default_factory=list
    )  # what a reader must know before trusting the models
    notes: list[str] = field(default_factory=list)

    def available(self) -> list[str]:
        return [f.name for f in fields(self) if isinstance(getattr(self, f.name), pd.DataFrame)]


def _query(con: duckdb.DuckDBPyConnection, sql: str, what: str, notes: list[str]) -> pd.DataFrame | None:
    try:
        return con.execute(sql).df()
    except duckdb.Error as exc:
        log.warning("report: could not read %s: %s", what, exc)
        notes.append(f"{what}: could not be read ({type(exc).__name__})")
        return None


def _read(
    con: duckdb.DuckDBPyConnection, relation: str, sql: str, what: str, notes: list[str]
) -> pd.DataFrame | None:
    """`sql`'s rows when `relation` (schema.name) is in this warehouse, else None (its section says so)."""
    if not table_exists(con, *relation.split(".")):
        return None
    return _query(con, sql, what, notes)


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
    return _read(
        con,
        "ml.churn_model_metrics",
        f"select {MODEL_LABEL} as model, is_champion, {', '.join(METRIC_COLUMNS)} from ml.churn_model_metrics "
        f"{SHOWN_MODELS} order by feature_set = 'peer', 1",
        "ml.churn_model_metrics",
        notes,
    )


def _model_caveats(con: duckdb.DuckDBPyConnection, notes: list[str]) -> list[str]:
    """Plain sentences from rpt_model_comparison: the champion beaten on test, its verdict against the best peer
    and the baseline (judged on the CI), an evaluation too small to trust, no usable text."""
    if not table_exists(con, "reports", "rpt_model_comparison"):
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
    return _read(
        con,
        "ml.churn_model_curves",
        f"select {MODEL_LABEL} as model, feature_set, curve, x, y from ml.churn_model_curves "
        f"where model_id in (select model_id from ml.churn_model_metrics {SHOWN_MODELS}) "
        "order by model, curve, point",
        "ml.churn_model_curves",
        notes,
    )


def _risk(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    rel = risk_relation(con)
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
    status = rel == "reports.rpt_churn_risk"  # customer_status exists in the report, not in churn_scores
    by_status = (
        "count(*) filter (where customer_status = 'active') as active, "
        "count(*) filter (where customer_status = 'lapsed') as lapsed, "
        if status
        else ""
    )
    data.risk_tiers = _query(
        con,
        f"select coalesce(risk_tier, 'unscored') as risk_tier, any_value(risk_tier_rule) as risk_tier_rule, "
        f"count(*) as customers, {by_status}"
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
    if status:
        data.lapsed = _query(
            con,
            "select risk_tier, count(*) as customers, sum(revenue_at_risk)::double as revenue_at_risk, "
            "median(days_since_last_order)::double as median_days_since_last_order "
            "from reports.rpt_churn_risk where customer_status = 'lapsed' and risk_tier <> 'low' "
            "group by all order by min(case risk_tier when 'high' then 0 else 1 end)",
            "rpt_churn_risk (lapsed)",
            data.notes,
        )


def _context(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """What every page states: as-of date, evaluation snapshot, horizon, currency and who is scored."""
    ctx: dict[str, object] = {}
    rel = risk_relation(con)
    if rel:
        row = first_row(con.execute(f"select max(snapshot_date), count(*) from {rel}"))
        ctx["as_of_date"], ctx["customers"] = row
    if table_exists(con, "reports", "rpt_churn_risk"):
        row = first_row(
            con.execute(
                "select any_value(horizon_days), any_value(lookback_days), any_value(currency) "
                "from reports.rpt_churn_risk"
            )
        )
        ctx["horizon_days"], ctx["lookback_days"], ctx["currency"] = row
    if table_exists(con, "ml", "churn_model_metrics"):
        row = first_row(
            con.execute(
                "select max(eval_snapshot_date), max(n_rows), max(base_rate), min(train_start_date), "
                "max(train_end_date) from ml.churn_model_metrics"
            )
        )
        keys = (
            "eval_snapshot_date",
            "eval_customers",
            "eval_base_rate",
            "train_start_date",
            "train_end_date",
        )
        ctx.update(zip(keys, row, strict=True))
    return {k: v for k, v in ctx.items() if v is not None and not (isinstance(v, float) and pd.isna(v))}


def _source_rows(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    out = {}
    for what, table in SOURCE_TABLES.items():
        if table_exists(con, "marts", table):
            out[what] = int(first_row(con.execute(f"select count(*) from marts.{table}"))[0])
    return out


def _queue(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    """The campaign in numbers (control arm: no cost, no expected value) and the top of the action list."""
    data.queue = _query(
        con,
        """
        select case when arm = 'treatment' then action end as action, arm, count(*) as customers,
               sum(case when arm = 'treatment' then unit_cost end) as cost,
               sum(case when arm = 'treatment' then expected_value end) as expected_value
        from reports.rpt_intervention_queue where is_selected group by all order by arm desc, 1
        """,
        "rpt_intervention_queue",
        data.notes,
    )
    data.actions = _query(
        con,
        f"""
        select q.queue_rank, q.customer_id, q.churn_probability, q.risk_tier, q.days_since_last_order,
               q.usual_order_gap_days, q.revenue_at_risk, r.reason_1, r.reason_2, r.reason_3, q.action,
               q.effect_used, q.effect_source, q.unit_cost, q.expected_value, q.arm, q.is_selected
        from reports.rpt_intervention_queue q left join reports.rpt_churn_risk r using (customer_id)
        order by q.queue_rank limit {RISK_LIST_ROWS}
        """,
        "rpt_intervention_queue (action list)",
        data.notes,
    )


def load_report_data(con: duckdb.DuckDBPyConnection, source_rows: dict[str, int] | None = None) -> ReportData:
    """The report's frames from `con`; `source_rows` are the source tables' row counts when they were counted
    elsewhere (another engine: report/engine_tables.py), else they are counted in `con`."""
    data = ReportData()
    data.metrics = _metrics(con, data.notes)
    data.model_caveats = _model_caveats(con, data.notes)
    data.curves = _curves(con, data.notes)
    _risk(con, data)
    data.segments = _read(
        con,
        "reports.rpt_segment_summary",
        "select * from reports.rpt_segment_summary order by 1, 2",
        "rpt_segment_summary",
        data.notes,
    )
    data.seg_crosstab = _read(
        con,
        "ml.customer_segments",
        """
        select rfm_segment_id, rfm_segment_name, fused_segment_id, fused_segment_name, count(*) as customers
        from ml.customer_segments where fused_segment_id is not null group by all order by 1, 3
        """,
        "ml.customer_segments (cross-tab)",
        data.notes,
    )
    data.topics = _read(
        con,
        "reports.rpt_complaint_topics",
        "select month, topic, mentions from reports.rpt_complaint_topics order by month, topic",
        "rpt_complaint_topics",
        data.notes,
    )
    data.effects = _read(
        con,
        "reports.rpt_intervention_effect",
        "select * from reports.rpt_intervention_effect",
        "rpt_intervention_effect",
        data.notes,
    )
    if table_exists(con, "reports", "rpt_intervention_queue"):
        _queue(con, data)
    try:
        data.context = _context(con)
        data.source_rows = _source_rows(con) if source_rows is None else source_rows
    except duckdb.Error as exc:  # a warehouse built before these columns existed: say so, render the rest
        data.notes.append(f"report context: could not be read ({type(exc).__name__})")
    try:
        data.headline = headline_text(con)
    except duckdb.Error as exc:
        data.notes.append(f"headline: {exc}")
    return data
