"""The model, risk, complaint-topic and intervention sections: charts and tables from ReportData."""

from __future__ import annotations

from html import escape

import pandas as pd

from python_jobs.report import svg
from python_jobs.report.cells import absent, context_line, missing, table
from python_jobs.report.data import HIST_BINS, ReportData

TIER_COLORS = {"high": "#d62728", "medium": "#ff7f0e", "low": "#2ca02c"}
CURVES = {
    "roc": ("ROC curve", "false positive rate", "true positive rate"),
    "pr": ("Precision-recall", "recall", "precision"),
    "lift": ("Cumulative lift", "share of customers targeted", "lift"),
    "calibration": ("Calibration", "predicted probability", "observed churn rate"),
}


def section_models(data: ReportData) -> str:
    parts = [
        '<section id="models"><h2>Model comparison: baseline vs enhanced</h2>',
        context_line(data, "eval_snapshot_date", "horizon_days"),
    ]
    if data.model_caveats:
        parts.append(
            '<ul class="caveats">' + "".join(f"<li>{escape(c)}</li>" for c in data.model_caveats) + "</ul>"
        )
    if data.metrics is not None and len(data.metrics):
        parts.append(
            "<p>Measured on a snapshot the models never trained on. ROC-AUC: how well a model ranks churners above "
            "non-churners (0.5 = chance, 1 = perfect); Brier score and log loss: how close the probabilities are "
            "to what happened (lower is better); 'vs baseline' = ROC-AUC difference to the behaviour-only model "
            "with a 95% interval; peers are single-column rules of thumb. Hover a column name for the raw "
            "column.</p>" + table(data.metrics)
        )
    else:
        parts.append(missing("ml.churn_model_metrics"))
    if data.curves is not None and len(data.curves):
        charts = []
        c = data.curves
        for kind, (title, xl, yl) in CURVES.items():
            sub = c[c["curve"] == kind]
            series = [
                svg.Series(str(model), g["x"].tolist(), g["y"].tolist(), dashed=feature_set != "enhanced")
                for (model, feature_set), g in sub.groupby(["model", "feature_set"], sort=True)
            ]
            if kind in ("roc", "calibration"):
                charts.append(
                    svg.line_chart(
                        title,
                        series,
                        xl,
                        yl,
                        diagonal=True,
                        x_range=(0, 1),
                        y_range=(0, 1),
                        markers=kind == "calibration",
                    )
                )
            elif kind == "pr":
                charts.append(svg.line_chart(title, series, xl, yl, x_range=(0, 1), y_range=(0, 1)))
            else:
                charts.append(svg.line_chart(title, series, xl, yl, reference_y=1.0))
        parts.append(f'<div class="grid">{"".join(charts)}</div>')
    else:
        parts.append(missing("ml.churn_model_curves"))
    return "".join(parts) + "</section>"


def section_risk(data: ReportData) -> str:
    parts = [
        '<section id="risk"><h2>Churn risk at the as-of date</h2>',
        context_line(data, "as_of_date", "horizon_days", "currency", "population"),
    ]
    if data.risk_tiers is None:
        return "".join(parts) + missing("rpt_churn_risk / ml.churn_scores") + "</section>"
    parts.append(
        "<p>Tiers are probability bands, so a tier means the same in every month and shop. 'Already lapsed' "
        "customers have not ordered for far longer than their own usual gap: they have left, and a retention "
        "action comes too late (a win-back campaign is another matter).</p>"
    )
    parts.append(table(data.risk_tiers, currency=data.context.get("currency")))
    h = data.risk_hist
    if h is not None and len(h):
        totals = h.groupby("bin")["customers"].sum().reindex(range(HIST_BINS), fill_value=0)
        dominant = h.sort_values("customers").groupby("bin")["risk_tier"].last().reindex(range(HIST_BINS))
        labels = [f"{b / HIST_BINS:.2f}" for b in range(HIST_BINS)]
        colors = [TIER_COLORS.get(str(t).lower(), "#1f77b4") for t in dominant]
        legend = [(t, TIER_COLORS[t]) for t in TIER_COLORS if t in set(h["risk_tier"].str.lower())]
        parts.append(
            svg.bar_chart(
                "Distribution of churn probability",
                labels,
                totals.tolist(),
                "churn probability (bin start)",
                "customers",
                colors=colors,
                legend=legend or None,
            )
        )
    return "".join(parts) + "</section>"


def section_topics(data: ReportData) -> str:
    parts = ['<section id="topics"><h2>Complaint topics over time</h2>']
    t = data.topics
    if t is None:
        return "".join(parts) + missing("rpt_complaint_topics") + "</section>"
    if not len(t):
        return "".join(parts) + absent(_no_texts(data)) + "</section>"
    months = sorted(t["month"].unique())
    idx = {m: i for i, m in enumerate(months)}
    top = t.groupby("topic")["mentions"].sum().nlargest(6).index
    series = []
    for topic in top:
        g = t[t["topic"] == topic].sort_values("month")
        series.append(
            svg.Series(str(topic), [idx[m] for m in g["month"]], g["mentions"].astype(float).tolist())
        )
    step = max(1, len(months) // 6)
    ticks = [(i, pd.Timestamp(m).strftime("%Y-%m")) for i, m in enumerate(months)][::step]
    parts.append(
        svg.line_chart(
            "Complaint mentions per month (top topics)", series, "month", "mentions", x_ticks=ticks
        )
    )
    return "".join(parts) + "</section>"


def _no_texts(data: ReportData) -> str:
    rows = data.source_rows
    missing = [w for w in ("reviews", "support tickets") if rows.get(w) == 0]
    if len(missing) == 2:
        return "This source has no reviews or support tickets, so there are no complaint topics to show."
    if missing:
        return f"This source has no {missing[0]}, and no complaints in the other texts yet."
    return "No complaints in this source's reviews and support tickets yet."


def _no_effects(data: ReportData) -> str:
    if data.source_rows.get("interventions") == 0:
        return (
            "This source has no interventions (past retention actions with a control group), so no effect can "
            "be measured yet: the next campaign uses the playbook's assumed effects, and its control group is "
            "how this shop will measure them."
        )
    return "No past intervention has a fully observed 90-day retention window yet."


def section_interventions(data: ReportData, truth: pd.DataFrame | None = None) -> str:
    parts = [
        '<section id="interventions"><h2>Intervention effects (treated vs control, 90-day retention)</h2>'
    ]
    e = data.effects
    if e is None:
        parts.append(missing("rpt_intervention_effect"))
    elif not len(e):
        parts.append(absent(_no_effects(data)))
    else:
        # best measured uplift first; ties and unmeasured actions by name, so every engine draws the same chart
        view = e[e["subgroup_type"] == "all"].sort_values(["effect", "action"], ascending=[False, True])
        labels = [f"{r.action} (n={int(r.n_treated) + int(r.n_control):,})" for r in view.itertuples()]
        truth_vals = None
        if truth is not None and len(truth):
            planted = truth.groupby("action")["planted_effect"].mean()
            truth_vals = [float(planted[a]) if a in planted.index else None for a in view["action"]]
        parts.append(
            svg.interval_chart(
                "Retention uplift per action (95% CI)",
                labels,
                view["effect"].tolist(),
                view["ci_low"].tolist(),
                view["ci_high"].tolist(),
                "retention treated - control",
                truth=truth_vals,
            )
        )
        shown = e.drop(
            columns=["first_sent_at", "last_sent_at", "effect_se", "retained_treated", "retained_control"]
        )
        shown = shown.sort_values(["subgroup_type", "action", "subgroup"])
        if truth is not None and len(truth):
            planted = truth.groupby("action", as_index=False)["planted_effect"].mean()
            shown = shown.merge(planted, on="action", how="left")
            by_campaign = truth.set_index("campaign_id")["planted_effect"]
            is_campaign = shown["subgroup_type"] == "campaign"
            shown.loc[is_campaign, "planted_effect"] = shown.loc[is_campaign, "subgroup"].map(by_campaign)
            shown.loc[~shown["subgroup_type"].isin(["all", "campaign"]), "planted_effect"] = None
            parts.append(
                "<p>Planted effect: the effect the synthetic generator built in (truth_campaigns, evaluation "
                "only); the diamonds in the chart. The warehouse never reads it.</p>"
            )
        main = shown[shown["subgroup_type"].isin(["all", "campaign"])]
        rest = shown[~shown["subgroup_type"].isin(["all", "campaign"])]
        parts.append(table(main, max_rows=100))
        if len(rest):
            parts.append(
                "<details><summary>By RFM segment at the time of sending (stand-in for risk tier; "
                f"{len(rest)} rows)</summary>{table(rest, max_rows=500)}</details>"
            )
    return "".join(parts) + "</section>"
