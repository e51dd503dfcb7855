"""How the report writes values: plain column labels, formatted cells, sortable tables, notes, context lines."""

from __future__ import annotations

import math
from datetime import date, datetime
from html import escape

import pandas as pd

from python_jobs.report.data import ReportData

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


def blank(v: object) -> bool:
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
    if blank(v):
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
        cls = f' class="{escape(str(rec[row_class]))}"' if row_class and not blank(rec[row_class]) else ""
        cells = "".join(_cell(rec[c].item() if hasattr(rec[c], "item") else rec[c], c) for c in shown)
        rows.append(f"<tr{cls}>{cells}</tr>")
    return (
        f'<div class="tw"><table class="sortable"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def missing(what: str) -> str:
    return f'<p class="note">{escape(what)} is not in this warehouse yet; this section is skipped.</p>'


def absent(text: str) -> str:
    """An input this source does not have: said plainly, not as a warehouse fault."""
    return f'<p class="absent">{escape(text)}</p>'


def fmt_date(v: object) -> str:
    return pd.Timestamp(v).strftime("%Y-%m-%d")


def context_line(data: ReportData, *keys: str) -> str:
    """The context a reader needs for this section, from data.context (missing keys are left out)."""
    ctx = data.context
    parts = []
    for key in keys:
        if key not in ctx and key != "population":
            continue
        if key == "as_of_date":
            parts.append(f"as of {fmt_date(ctx[key])}")
        elif key == "eval_snapshot_date":
            text = f"evaluated out-of-time on the {fmt_date(ctx[key])} snapshot"
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
