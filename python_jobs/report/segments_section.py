"""Customer segments section: per-segmentation heatmap profiles and what the fused segmentation adds to RFM."""

from __future__ import annotations

from html import escape

import pandas as pd

from python_jobs.report import svg
from python_jobs.report.cells import absent, context_line, missing, table
from python_jobs.report.data import ReportData

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


def section_segments(data: ReportData) -> str:
    parts = [
        '<section id="segments"><h2>Customer segments</h2>',
        context_line(data, "as_of_date", "population"),
    ]
    s = data.segments
    if s is None or not len(s):
        return "".join(parts) + missing("rpt_segment_summary") + "</section>"
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
            absent(
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
