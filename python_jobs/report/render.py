"""Render ReportData into one self-contained HTML page (inline CSS, inline SVG, a few lines of inline JS)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from html import escape

import pandas as pd

from python_jobs.report import svg
from python_jobs.report.data import HIST_BINS, ReportData

TIER_COLORS = {"high": "#d62728", "medium": "#ff7f0e", "low": "#2ca02c"}
CURVES = {
    "roc": ("ROC curve", "false positive rate", "true positive rate"),
    "pr": ("Precision-recall", "recall", "precision"),
    "lift": ("Cumulative lift", "share of customers targeted", "lift"),
    "calibration": ("Calibration", "predicted probability", "observed churn rate"),
}
HEAT_COLUMNS = (
    ("customers", "customers"),
    ("customer_share", "share"),
    ("revenue_share", "revenue share"),
    ("mean_recency_days", "recency (d)"),
    ("mean_frequency", "orders"),
    ("mean_monetary", "spend"),
    ("mean_sessions_30d", "sessions 30d"),
    ("mean_sentiment", "sentiment"),
    ("complaint_rate", "complaint rate"),
    ("churn_rate", "churn rate"),
    ("mean_churn_probability", "mean risk"),
)

RISK_LIST_COLUMNS = (  # the fallback list when only the models were built (no queue yet)
    "customer_id",
    "churn_probability",
    "risk_tier",
    "revenue_at_risk",
    "reason_1",
    "reason_2",
    "reason_3",
    "recommended_action",
)
ACTION_COLUMNS = (
    "queue_rank",
    "customer_id",
    "churn_probability",
    "risk_tier",
    "last_order",
    "revenue_at_risk",
    "reason_1",
    "reason_2",
    "action_effect",
    "unit_cost",
    "expected_value",
    "arm",
)
# Columns the report derives for reading: the header's title names the warehouse columns behind them.
DERIVED_FROM = {
    "last_order": "days_since_last_order, usual_order_gap_days",
    "action_effect": "action, effect_used, effect_source",
}
# Plain labels for column names; the raw name stays in the header's title (hover) for analysts.
COLUMN_LABELS = {
    "model": "model",
    "is_champion": "scores customers",
    "roc_auc": "ROC-AUC (ranking, 0.5 = chance)",
    "pr_auc": "PR-AUC",
    "top_decile_lift": "lift in top 10%",
    "top_decile_capture": "churners caught in top 10%",
    "brier": "Brier score (lower = better)",
    "log_loss": "log loss (lower = better)",
    "auc_diff_vs_baseline": "ROC-AUC vs baseline",
    "auc_diff_ci_low": "vs baseline, 95% CI low",
    "auc_diff_ci_high": "vs baseline, 95% CI high",
    "n_rows": "test customers",
    "base_rate": "churn rate",
    "risk_tier": "risk tier",
    "risk_tier_rule": "what the tier means",
    "customers": "customers",
    "active": "still active",
    "lapsed": "already lapsed",
    "revenue_at_risk": "revenue at risk",
    "mean_probability": "mean churn probability",
    "median_days_since_last_order": "median days since last order",
    "queue_rank": "#",
    "customer_id": "customer",
    "churn_probability": "churn probability",
    "days_since_last_order": "days since last order",
    "last_order": "last order",
    "action_effect": "action (expected uplift)",
    "usual_order_gap_days": "usually orders every (days)",
    "reason_1": "top reason",
    "reason_2": "second reason",
    "reason_3": "third reason",
    "recommended_action": "recommended action",
    "action": "action",
    "effect_used": "retention uplift used",
    "unit_cost": "cost",
    "cost": "cost",
    "expected_value": "expected net value",
    "arm": "group",
    "subgroup_type": "breakdown",
    "subgroup": "group",
    "campaigns": "campaigns",
    "n_treated": "treated",
    "n_control": "control",
    "retained_treated": "retained (treated)",
    "retained_control": "retained (control)",
    "retention_treated": "retention treated",
    "retention_control": "retention control",
    "effect": "uplift (treated - control)",
    "ci_low": "95% CI low",
    "ci_high": "95% CI high",
    "is_significant": "CI excludes 0",
    "has_min_support": "enough customers to use",
    "planted_effect": "planted effect (synthetic truth)",
    "segmentation": "segmentation",
    "segment_id": "#",
    "segment_name": "segment",
    "top_topics": "top complaint topics",
    "segment_persona": "persona",
    "rfm_segment_name": "RFM segment",
}
MONEY_COLUMNS = {"revenue_at_risk", "unit_cost", "cost", "expected_value"}
PERCENT_COLUMNS = {
    "churn_probability",
    "mean_probability",
    "base_rate",
    "top_decile_capture",
    "retention_treated",
    "retention_control",
}
POINTS_COLUMNS = {"effect", "ci_low", "ci_high", "effect_used", "planted_effect"}  # percentage points
ARM_LABELS = {"treatment": "act", "control": "control"}

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#17324d;color:#fff;padding:18px 28px}header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;opacity:.85}main{padding:10px 28px 40px;max-width:1400px}
section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;margin:18px 0;padding:14px 18px}
h2{font-size:17px;margin:4px 0 10px}.grid{display:flex;flex-wrap:wrap;gap:14px}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:150px}
.card b{display:block;font-size:20px}.headline{white-space:pre-wrap;background:#f3f7fb;border-left:4px solid #17324d;
padding:8px 12px;font-family:ui-monospace,Menlo,monospace;font-size:13px}
table{border-collapse:collapse;font-size:12.5px;margin:6px 0}th,td{border-bottom:1px solid #eee;padding:3px 8px;text-align:right}
th{background:#f4f4f4;cursor:pointer}td.t,th.t{text-align:left}.muted{fill:#888;color:#888}
svg.chart text{font-size:11px;fill:#333}svg.chart .ttl{font-size:13px;font-weight:600}svg.chart .lab{fill:#555}
svg.chart .axis{stroke:#888}svg.chart .grid{stroke:#eee}svg.chart .ref{stroke:#999;stroke-dasharray:4,3}
.note{color:#8a6d3b;background:#fcf8e3;padding:6px 10px;border-radius:4px}
.caveats{color:#6b3a00;background:#fff4e5;padding:6px 10px 6px 28px;border-radius:4px}
header{position:sticky;top:0;z-index:5;padding:10px 28px}header .ctx{margin-top:4px;font-size:13px;opacity:1}
header .ctx b{font-weight:600}.ctx-line{color:#555;font-size:12.5px;margin:-4px 0 8px}
.tw{overflow-x:auto;max-width:100%}td.t{white-space:normal;min-width:8em;max-width:26em}td{white-space:nowrap}
th{white-space:normal;vertical-align:bottom;min-width:4em;max-width:12em}th[title]{text-decoration:underline dotted #aaa}
tr.control td{color:#666;background:#f7f7f7}.absent{color:#555;background:#f1f3f5;padding:6px 10px;border-radius:4px}
.card small{display:block;color:#555}
@media print{header{position:static}section{break-inside:avoid-page}}
"""

# Proves rendering in a browser: counts drawn marks per chart and flags the body; sortable tables.
SCRIPT = """
(function(){
  var charts=document.querySelectorAll('svg.chart:not(.empty)'),drawn=0;
  charts.forEach(function(s){var b=s.getBBox();if(s.querySelectorAll('.mark').length&&b.width>0&&b.height>0)drawn++;});
  document.body.setAttribute('data-charts-total',String(charts.length));
  document.body.setAttribute('data-charts-drawn',String(drawn));
  document.body.setAttribute('data-render',drawn===charts.length?'ok':'incomplete');
  document.querySelectorAll('table.sortable th').forEach(function(th,i){th.addEventListener('click',function(){
    var tb=th.closest('table').tBodies[0],rows=Array.from(tb.rows),asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';
    rows.sort(function(a,b){var x=a.cells[i].dataset.v||a.cells[i].textContent,y=b.cells[i].dataset.v||b.cells[i].textContent;
      var nx=parseFloat(x),ny=parseFloat(y);var c=(isNaN(nx)||isNaN(ny))?x.localeCompare(y):nx-ny;return asc?c:-c;});
    rows.forEach(function(r){tb.appendChild(r);});});});
})();
"""


def _blank(v: object) -> bool:
    if v is None or v is pd.NaT or v is pd.NA:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and v.strip().lower() in ("nan", "nat", "none", "<na>")


def _number(v: float, column: str) -> str:
    if column in PERCENT_COLUMNS:
        text = f"{v:.0%}" if abs(v) >= 0.1 else f"{v:.1%}"
    elif column in POINTS_COLUMNS:
        text = f"{v * 100:+.1f} pts"
    elif column in MONEY_COLUMNS:
        text = f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}"
    else:
        text = f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3f}" if abs(v) < 10 else f"{v:,.1f}"
    return "0" + text[2:] if text.startswith("-0") and not any(ch in "123456789" for ch in text) else text


def _cell(v: object, column: str = "") -> str:
    if _blank(v):
        return '<td class="t"></td>'
    if isinstance(v, bool):
        return f'<td class="t">{"yes" if v else "no"}</td>'
    if isinstance(v, int):
        return f'<td data-v="{v}">{v:,}</td>'
    if isinstance(v, float):
        return f'<td data-v="{v}">{_number(v, column)}</td>'
    if isinstance(v, datetime):  # pd.Timestamp included: minutes at most, the date alone at midnight
        text = (
            v.strftime("%Y-%m-%d")
            if (v.hour, v.minute, v.second) == (0, 0, 0)
            else v.strftime("%Y-%m-%d %H:%M")
        )
        return f'<td class="t">{text}</td>'
    if isinstance(v, date):
        return f'<td class="t">{v.isoformat()}</td>'
    if isinstance(v, list | tuple):
        v = ", ".join(map(str, v))
    if hasattr(v, "tolist") and not isinstance(v, str):
        v = ", ".join(map(str, v.tolist()))
    return f'<td class="t">{escape(str(v))}</td>'


def label(column: str, currency: str | None = None) -> str:
    text = COLUMN_LABELS.get(column, column.replace("_", " "))
    return f"{text} ({currency})" if currency and column in MONEY_COLUMNS else text


def table(
    df: pd.DataFrame, max_rows: int = 50, currency: str | None = None, row_class: str | None = None
) -> str:
    """A sortable table with plain column labels (raw name in the title); `row_class` names a column whose
    value becomes the row's CSS class (e.g. 'control')."""
    shown = [c for c in df.columns if c != row_class]
    head = "".join(
        f'<th class="{"t" if not pd.api.types.is_numeric_dtype(df[c]) else ""}" '
        f'title="{escape(DERIVED_FROM.get(str(c), str(c)))}">{escape(label(str(c), currency))}</th>'
        for c in shown
    )
    rows = []
    for rec in df.head(max_rows).to_dict("records"):
        cls = f' class="{escape(str(rec[row_class]))}"' if row_class and not _blank(rec[row_class]) else ""
        cells = "".join(_cell(rec[c].item() if hasattr(rec[c], "item") else rec[c], c) for c in shown)
        rows.append(f"<tr{cls}>{cells}</tr>")
    return (
        f'<div class="tw"><table class="sortable"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _missing(what: str) -> str:
    return f'<p class="note">{escape(what)} is not in this warehouse yet; this section is skipped.</p>'


def _absent(text: str) -> str:
    """An input this source does not have: said plainly, not as a warehouse fault."""
    return f'<p class="absent">{escape(text)}</p>'


def _fmt_date(v: object) -> str:
    return pd.Timestamp(v).strftime("%Y-%m-%d")


def context_line(data: ReportData, *keys: str) -> str:
    """The context a reader needs for this section, from data.context (missing keys are left out)."""
    ctx = data.context
    parts = []
    for key in keys:
        if key not in ctx and key != "population":
            continue
        if key == "as_of_date":
            parts.append(f"as of {_fmt_date(ctx[key])}")
        elif key == "eval_snapshot_date":
            text = f"evaluated out-of-time on the {_fmt_date(ctx[key])} snapshot"
            if "eval_customers" in ctx and "eval_base_rate" in ctx:
                text += f" ({int(ctx['eval_customers']):,} customers, churn rate {float(ctx['eval_base_rate']):.0%})"
            parts.append(text)
        elif key == "horizon_days":
            parts.append(f"churn = no order in the next {int(ctx[key])} days")
        elif key == "currency":
            parts.append(f"amounts in {ctx[key]}")
        elif key == "population" and "customers" in ctx:
            window = (
                f"the {int(ctx['lookback_days'])} days" if "lookback_days" in ctx else "the lookback window"
            )
            parts.append(
                f"{int(ctx['customers']):,} customers with an order in {window} before the as-of date"
            )
    return f'<p class="ctx-line">{escape(" · ".join(parts))}</p>' if parts else ""


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
        parts.append(_missing("ml.churn_model_metrics"))
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
        parts.append(_missing("ml.churn_model_curves"))
    return "".join(parts) + "</section>"


def section_risk(data: ReportData) -> str:
    parts = [
        '<section id="risk"><h2>Churn risk at the as-of date</h2>',
        context_line(data, "as_of_date", "horizon_days", "currency", "population"),
    ]
    if data.risk_tiers is None:
        return "".join(parts) + _missing("rpt_churn_risk / ml.churn_scores") + "</section>"
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


def section_segments(data: ReportData) -> str:
    parts = [
        '<section id="segments"><h2>Customer segments</h2>',
        context_line(data, "as_of_date", "population"),
    ]
    s = data.segments
    if s is None or not len(s):
        return "".join(parts) + _missing("rpt_segment_summary") + "</section>"
    charts, info = [], []
    groups = [
        (k, s[s["segmentation"] == k])
        for k in sorted(s["segmentation"].unique(), key=lambda k: (k != "rfm", k))
    ]
    for key, g in groups:
        cols = [(c, label) for c, label in HEAT_COLUMNS if g[c].notna().any()]
        rows = [f"{int(r.segment_id)}. {r.segment_name}" for r in g.itertuples()]
        vals = [[None if pd.isna(v) else float(v) for v in g[c]] for c, _ in cols]
        matrix = [list(r) for r in zip(*vals, strict=True)] if vals else []

        def fmt(c: str, v: float | None) -> str:
            if v is None:
                return ""
            if c in (
                "customer_share",
                "revenue_share",
                "complaint_rate",
                "churn_rate",
                "mean_churn_probability",
            ):
                return f"{v:.0%}"
            return f"{v:,.0f}" if abs(v) >= 10 else f"{v:.2f}"

        text = [[fmt(c, v) for (c, _), v in zip(cols, row, strict=True)] for row in matrix]
        title = f"{key} segmentation profile (colour: column z-score)"
        charts.append(svg.heatmap(title, rows, [lab for _, lab in cols], matrix, text))
        info.append(
            f"<b>{escape(str(key))}</b>: K = {int(g['k'].iloc[0])}, silhouette {g['silhouette'].iloc[0]:.3f}"
        )
    if info:
        parts.append(
            "<p>" + "; ".join(info) + " (K chosen by the highest silhouette in the configured range).</p>"
        )
    parts.append(f'<div class="grid">{"".join(charts)}</div>')
    if "fused" not in set(s["segmentation"]):
        parts.append(
            _absent(
                "Only the RFM segmentation is shown: this source has no activity or text features that vary, "
                "so a fused segmentation would repeat it."
            )
        )
    parts.append(table(s[["segmentation", "segment_id", "segment_name", "top_topics", "segment_persona"]]))
    ct = data.seg_crosstab
    if ct is not None and len(ct):
        pivot = ct.pivot_table(
            index="rfm_segment_name",
            columns="fused_segment_name",
            values="customers",
            aggfunc="sum",
            fill_value=0,
        )
        pivot.columns.name = None
        parts.append("<h3>RFM-only vs fused segments (customers)</h3>" + table(pivot.reset_index()))
        notes = split_notes(ct, s)
        if notes:
            parts.append(
                "<p>What the text and activity features add: RFM segments the fused segmentation splits, "
                "and how the parts differ.</p><ul>"
                + "".join(f"<li>{escape(n)}</li>" for n in notes)
                + "</ul>"
            )
    return "".join(parts) + "</section>"


def split_notes(crosstab: pd.DataFrame, segments: pd.DataFrame, min_share: float = 0.15) -> list[str]:
    """Sentences on RFM segments the fused segmentation splits: where each part goes and how they differ.

    A split = an RFM segment whose customers fall into two or more fused segments with at least `min_share`
    of them each; the parts are compared on the fused profiles (sentiment, activity, complaints, topics).
    """
    if crosstab is None or segments is None:
        return []
    fused = segments[segments["segmentation"] == "fused"].set_index("segment_id")
    notes = []
    for (rfm_id, rfm_name), g in crosstab.groupby(["rfm_segment_id", "rfm_segment_name"], sort=True):
        share = g.set_index("fused_segment_id")["customers"] / g["customers"].sum()
        parts = share[share >= min_share].sort_values(ascending=False)
        if len(parts) < 2:
            continue
        desc = []
        for fid, s in parts.items():
            if fid not in fused.index:
                continue
            f = fused.loc[fid]
            facts = [f"{s:.0%} to '{f['segment_name']}'"]
            for col, label, fmt in (
                ("mean_sentiment", "sentiment", "{:+.2f}"),
                ("mean_sessions_30d", "sessions/30d", "{:.1f}"),
                ("complaint_rate", "complaint rate", "{:.0%}"),
                ("mean_churn_probability", "risk", "{:.0%}"),
            ):
                if pd.notna(f[col]):
                    facts.append(f"{label} {fmt.format(f[col])}")
            if isinstance(f["top_topics"], str) and f["top_topics"]:
                facts.append(f"topics: {f['top_topics']}")
            desc.append(" (".join([facts[0], ", ".join(facts[1:])]) + ")" if len(facts) > 1 else facts[0])
        notes.append(f"RFM segment {int(rfm_id)} '{rfm_name}' splits: " + "; ".join(desc) + ".")
    return notes


def section_topics(data: ReportData) -> str:
    parts = ['<section id="topics"><h2>Complaint topics over time</h2>']
    t = data.topics
    if t is None:
        return "".join(parts) + _missing("rpt_complaint_topics") + "</section>"
    if not len(t):
        return "".join(parts) + _absent(_no_texts(data)) + "</section>"
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
        parts.append(_missing("rpt_intervention_effect"))
    elif not len(e):
        parts.append(_absent(_no_effects(data)))
    else:
        view = e[e["subgroup_type"] == "all"]
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


def _arm_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Control-arm rows read as the control group: no action, cost, effect or expected value."""
    out = frame.copy()
    control = out["arm"] == "control"
    for col in ("unit_cost", "cost", "effect_used", "expected_value"):
        if col in out:
            out[col] = out[col].astype("float64").where(~control)
    for col in ("action", "action_effect"):
        if col in out:
            out[col] = out[col].where(~control, "none (held out to measure the effect)")
    out["row_class"] = out["arm"]
    out["arm"] = out["arm"].map(ARM_LABELS).fillna(out["arm"])
    return out


def _last_order(days: object, gap: object) -> str:
    """'42 days ago, usually every 12' against the customer's own gap; 'one order so far' without one."""
    if _blank(days):
        return ""
    text = "1 day ago" if int(days) == 1 else f"{int(days):,} days ago"
    if _blank(gap):
        return text + ", one order so far"
    return text + (f", usually every {float(gap):,.0f}" if float(gap) >= 1 else "")


def _action_rows(actions: pd.DataFrame) -> pd.DataFrame:
    """The action list as a person reads it: last order against the customer's own gap, action with its uplift."""
    a = actions.copy()
    a["last_order"] = [
        _last_order(d, g) for d, g in zip(a["days_since_last_order"], a["usual_order_gap_days"], strict=True)
    ]
    a["action_effect"] = [
        f"{act} ({eff * 100:+.1f} pts, {src})" if pd.notna(eff) else act
        for act, eff, src in zip(a["action"], a["effect_used"], a["effect_source"], strict=True)
    ]
    return _arm_rows(a[list(ACTION_COLUMNS)])


def section_actions(data: ReportData) -> str:
    """Who to act on: the retention queue by expected value saved, the campaign in numbers, and who has lapsed."""
    parts = [
        '<section id="risk-list"><h2>Who to act on: the next retention campaign</h2>',
        context_line(data, "as_of_date", "horizon_days", "currency"),
    ]
    currency = data.context.get("currency")
    a = data.actions
    if a is None:
        top = data.risk_top
        if top is None or not len(top):
            return "".join(parts) + _missing("rpt_intervention_queue / rpt_churn_risk") + "</section>"
        keep = [c for c in RISK_LIST_COLUMNS if c in top]  # models built, reports not yet: the raw risk list
        parts.append(
            _missing("rpt_intervention_queue")
            + "<p>Highest revenue at risk instead (no lapsed/active split yet):</p>"
            + table(top[keep], currency=currency)
        )
        return "".join(parts) + "</section>"
    parts.append(
        "<p>High- and medium-risk customers who are still active, ranked by the value an action can still save: "
        "churn probability x spend at risk x the action's retention uplift (measured on past campaigns where "
        "enough customers back it, else the playbook's assumption) - its cost. A random tenth is held out as "
        "the control group: they get nothing, so the campaign's effect can be measured.</p>"
    )
    if not len(a):
        parts.append(_absent("No active customer is at high or medium risk: nobody to act on this time."))
    else:
        parts.append(table(_action_rows(a), currency=currency, row_class="row_class"))
    if data.queue is not None and len(data.queue):
        parts.append(
            "<h3>The campaign within budget</h3>"
            + table(_arm_rows(data.queue), currency=currency, row_class="row_class")
        )
    lapsed = data.lapsed
    if lapsed is not None and len(lapsed):
        n = int(lapsed["customers"].sum())
        parts.append(
            f"<h3>Already lapsed: {n:,} high- or medium-risk customers not in the queue</h3>"
            "<p>No order for far longer than their own usual gap (and at least the churn horizon): a retention "
            "offer comes too late for them; treat them as a separate win-back audience.</p>"
            + table(lapsed, currency=currency)
        )
    return "".join(parts) + "</section>"


def _context_bar(data: ReportData) -> str:
    ctx = data.context
    items = []
    if "as_of_date" in ctx:
        items.append(f"As of <b>{_fmt_date(ctx['as_of_date'])}</b>")
    if "eval_snapshot_date" in ctx:
        items.append(f"evaluated on <b>{_fmt_date(ctx['eval_snapshot_date'])}</b> (out-of-time)")
    if "horizon_days" in ctx:
        items.append(f"horizon <b>{int(ctx['horizon_days'])} days</b>")
    items.append(
        f"currency <b>{escape(str(ctx['currency']))}</b>" if "currency" in ctx else "currency not stated"
    )
    if "customers" in ctx:
        window = f"{int(ctx['lookback_days'])} days" if "lookback_days" in ctx else "the lookback window"
        items.append(
            f"population <b>{int(ctx['customers']):,}</b> customers with an order in the {window} before"
        )
    return f'<div class="ctx">{" · ".join(items)}</div>'


def _cards(data: ReportData) -> str:
    if data.risk_tiers is None:
        return ""
    currency = data.context.get("currency")
    cards = []
    for r in data.risk_tiers.to_dict("records"):
        rule = (
            f"<small>{escape(str(r['risk_tier_rule']))}</small>"
            if not _blank(r.get("risk_tier_rule"))
            else ""
        )
        status = (
            f"<br>{int(r['active']):,} active, {int(r['lapsed']):,} lapsed"
            if not _blank(r.get("active"))
            else ""
        )
        rev = (
            ""
            if _blank(r["revenue_at_risk"])
            else f"<br>{r['revenue_at_risk']:,.0f} {currency or ''} at risk"
        )
        cards.append(
            f'<div class="card">{escape(str(r["risk_tier"]))} risk{rule}<b>{int(r["customers"]):,}</b>customers'
            f"{status}{rev}</div>"
        )
    return f'<div class="cards">{"".join(cards)}</div>'


def render_html(data: ReportData, truth: pd.DataFrame | None = None, title: str = "Churn report") -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    headline = f'<div class="headline">{escape(data.headline)}</div>' if data.headline else ""
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in data.notes)
    body = "".join(
        [
            f'<section id="summary"><h2>Summary</h2>{headline}{_cards(data)}{notes}</section>',
            section_actions(data),
            section_risk(data),
            section_models(data),
            section_segments(data),
            section_topics(data),
            section_interventions(data, truth),
        ]
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
        f"<body><header><h1>{escape(title)}</h1>{_context_bar(data)}<p>Generated {now} from the warehouse "
        "tables; self-contained, opens offline.</p></header>"
        f"<main>{body}</main><script>{SCRIPT}</script></body></html>"
    )
