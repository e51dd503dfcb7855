"""Who to act on: the retention queue by expected value saved, the campaign within budget, the lapsed."""

from __future__ import annotations

import pandas as pd

from python_jobs.report.cells import absent, blank, context_line, missing, table
from python_jobs.report.data import ReportData

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
ARM_LABELS = {"treatment": "act", "control": "control"}


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
    if blank(days):
        return ""
    text = "1 day ago" if int(days) == 1 else f"{int(days):,} days ago"
    if blank(gap):
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
            return "".join(parts) + missing("rpt_intervention_queue / rpt_churn_risk") + "</section>"
        keep = [c for c in RISK_LIST_COLUMNS if c in top]  # models built, reports not yet: the raw risk list
        parts.append(
            missing("rpt_intervention_queue")
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
        parts.append(absent("No active customer is at high or medium risk: nobody to act on this time."))
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
