"""Render ReportData into one self-contained HTML page (inline CSS, inline SVG, a few lines of inline JS)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
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

RISK_LIST_COLUMNS = (
    "customer_id",
    "churn_probability",
    "risk_tier",
    "revenue_at_risk",
    "reason_1",
    "reason_2",
    "reason_3",
    "fused_segment_name",
    "last_complaint_topic",
    "last_complaint_at",
    "recommended_action",
)

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


def _cell(v: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return '<td class="t"></td>'
    if isinstance(v, bool):
        return f'<td class="t">{"yes" if v else "no"}</td>'
    if isinstance(v, int):
        return f'<td data-v="{v}">{v:,}</td>'
    if isinstance(v, float):
        text = f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3f}" if abs(v) < 10 else f"{v:,.1f}"
        return f'<td data-v="{v}">{text}</td>'
    if isinstance(v, list | tuple):
        v = ", ".join(map(str, v))
    if hasattr(v, "tolist") and not isinstance(v, str):
        v = ", ".join(map(str, v.tolist()))
    return f'<td class="t">{escape(str(v))}</td>'


def table(df: pd.DataFrame, max_rows: int = 50) -> str:
    head = "".join(
        f'<th class="{"t" if not pd.api.types.is_numeric_dtype(df[c]) else ""}">{escape(str(c))}</th>'
        for c in df.columns
    )
    rows = []
    for rec in df.head(max_rows).itertuples(index=False):
        rows.append("<tr>" + "".join(_cell(v.item() if hasattr(v, "item") else v) for v in rec) + "</tr>")
    return f'<table class="sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _missing(what: str) -> str:
    return f'<p class="note">{escape(what)} is not in this warehouse yet; this section is skipped.</p>'


def section_models(data: ReportData) -> str:
    parts = ['<section id="models"><h2>Model comparison: baseline vs enhanced</h2>']
    if data.model_caveats:
        parts.append(
            '<ul class="caveats">' + "".join(f"<li>{escape(c)}</li>" for c in data.model_caveats) + "</ul>"
        )
    if data.metrics is not None and len(data.metrics):
        parts.append(
            "<p>Out-of-time test snapshot. auc_diff_* = ROC-AUC difference to the selected baseline with a "
            "paired-bootstrap 95% interval; peers are single-column heuristics.</p>" + table(data.metrics)
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
    parts = ['<section id="risk"><h2>Churn risk at the as-of date</h2>']
    if data.risk_tiers is None:
        return "".join(parts) + _missing("rpt_churn_risk / ml.churn_scores") + "</section>"
    parts.append(table(data.risk_tiers))
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
    parts = ['<section id="segments"><h2>Customer segments</h2>']
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
    if t is None or not len(t):
        return "".join(parts) + _missing("rpt_complaint_topics") + "</section>"
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


def section_interventions(data: ReportData, truth: pd.DataFrame | None = None) -> str:
    parts = [
        '<section id="interventions"><h2>Intervention effects (treated vs control, 90-day retention)</h2>'
    ]
    e = data.effects
    if e is None or not len(e):
        parts.append(_missing("rpt_intervention_effect"))
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
        shown = e.drop(columns=["first_sent_at", "last_sent_at", "effect_se"])
        shown = shown.sort_values(["subgroup_type", "action", "subgroup"])
        if truth is not None and len(truth):
            planted = truth.groupby("action", as_index=False)["planted_effect"].mean()
            shown = shown.merge(planted, on="action", how="left")
            by_campaign = truth.set_index("campaign_id")["planted_effect"]
            is_campaign = shown["subgroup_type"] == "campaign"
            shown.loc[is_campaign, "planted_effect"] = shown.loc[is_campaign, "subgroup"].map(by_campaign)
            shown.loc[~shown["subgroup_type"].isin(["all", "campaign"]), "planted_effect"] = None
            parts.append(
                "<p>planted_effect: the effect the synthetic generator built in (truth_campaigns, evaluation "
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
    if data.queue is not None and len(data.queue):
        parts.append("<h3>Next campaign queue (within budget)</h3>" + table(data.queue))
    return "".join(parts) + "</section>"


def section_risk_list(data: ReportData) -> str:
    parts = ['<section id="risk-list"><h2>Top of the risk list (by revenue at risk)</h2>']
    if data.risk_top is None or not len(data.risk_top):
        return "".join(parts) + _missing("rpt_churn_risk") + "</section>"
    top = data.risk_top
    # rpt_churn_risk has every one; ml.churn_scores (models built, reports not yet) lacks segment and action
    keep = [c for c in RISK_LIST_COLUMNS if c in top]
    return "".join(parts) + table(top[keep], max_rows=50) + "</section>"


def render_html(data: ReportData, truth: pd.DataFrame | None = None, title: str = "Churn report") -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    cards = []
    if data.risk_tiers is not None:
        for r in data.risk_tiers.itertuples():
            rev = (
                ""
                if r.revenue_at_risk is None or pd.isna(r.revenue_at_risk)
                else f"<br>{r.revenue_at_risk:,.0f} at risk"
            )
            cards.append(
                f'<div class="card">{escape(str(r.risk_tier))} risk<b>{int(r.customers):,}</b>customers{rev}</div>'
            )
    headline = f'<div class="headline">{escape(data.headline)}</div>' if data.headline else ""
    notes = "".join(f'<p class="note">{escape(n)}</p>' for n in data.notes)
    body = "".join(
        [
            f'<section id="summary"><h2>Summary</h2>{headline}<div class="cards">{"".join(cards)}</div>{notes}</section>',
            section_models(data),
            section_risk(data),
            section_segments(data),
            section_topics(data),
            section_interventions(data, truth),
            section_risk_list(data),
        ]
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
        f"<body><header><h1>{escape(title)}</h1><p>Generated {now} from the warehouse tables. "
        "Self-contained: opens offline, no scripts or fonts are loaded from anywhere.</p></header>"
        f"<main>{body}</main><script>{SCRIPT}</script></body></html>"
    )
