"""The demo's closing headline: who is at high risk (and what that means), still active or already lapsed,
revenue at risk, the top drivers, the next campaign and the best measured action."""

from __future__ import annotations

import duckdb

from python_jobs.report.relations import risk_relation, table_exists
from python_jobs.warehouse import first_row


def _drivers(con: duckdb.DuckDBPyConnection, rel: str) -> list[tuple[str, int]]:
    """The three reason features named most often among high-risk customers, with their descriptions."""
    rows = con.execute(
        f"""
        select reason, count(*) as n
        from (
            select unnest([reason_1_feature, reason_2_feature, reason_3_feature]) as reason
            from {rel} where risk_tier = 'high'
        )
        where reason is not null and reason <> '' group by reason order by n desc, reason limit 3
        """
    ).fetchall()
    if table_exists(con, "reference", "churn_features"):
        labels = dict(
            con.execute("select feature_name, description from reference.churn_features").fetchall()
        )
        rows = [(labels.get(r, r), k) for r, k in rows]
    return rows


def money(value: float, currency: str | None) -> str:
    return f"{value:,.0f} {currency}" if currency else f"{value:,.0f}"


def _risk_lines(con: duckdb.DuckDBPyConnection, rel: str) -> list[str]:
    report = rel == "reports.rpt_churn_risk"
    extra = (
        ", count(*) filter (where risk_tier = 'high' and customer_status = 'active'), any_value(horizon_days), "
        "any_value(currency)"
        if report
        else ", null, null, null"
    )
    n, revenue, total_rev, rule, active, horizon, currency = first_row(
        con.execute(
            f"select count(*) filter (where risk_tier = 'high'), "
            f"sum(revenue_at_risk) filter (where risk_tier = 'high'), sum(revenue_at_risk), "
            f"any_value(risk_tier_rule) filter (where risk_tier = 'high'){extra} from {rel}"
        )
    )
    what = f" ({rule}{f' within {horizon} days' if horizon else ''})" if rule else ""
    text = f"High churn risk{what}: {n:,} customers"
    if revenue is not None:
        text += f", {money(revenue, currency)} revenue at risk"
        if total_rev:
            text += f" ({money(total_rev, currency)} across all scored customers)"
    if active is not None:
        text += f"; {active:,} still active, {n - active:,} already lapsed"
    lines = [text + "."]
    drivers = _drivers(con, rel)
    if drivers:
        lines.append("Top drivers: " + "; ".join(f"{r} ({k:,})" for r, k in drivers) + ".")
    return lines


def _campaign_line(con: duckdb.DuckDBPyConnection) -> str | None:
    row = first_row(
        con.execute(
            """
        select count(*) filter (where arm = 'treatment'), sum(unit_cost) filter (where arm = 'treatment'),
               sum(expected_value) filter (where arm = 'treatment'), count(*) filter (where arm = 'control'),
               any_value(currency)
        from reports.rpt_intervention_queue where is_selected
        """
        )
    )
    treated, cost, value, control, currency = row
    if not treated:
        return None
    return (
        f"Next campaign: {treated:,} active customers at risk, cost {money(cost, currency)}, expected value saved "
        f"after costs {money(value, currency)}; {control:,} more held out as the control group."
    )


def headline_text(con: duckdb.DuckDBPyConnection) -> str:
    """One short paragraph from the report tables; parts whose tables are missing are left out."""
    lines: list[str] = []
    rel = risk_relation(con)
    if rel:
        lines += _risk_lines(con, rel)
    if table_exists(con, "reports", "rpt_intervention_queue"):
        line = _campaign_line(con)
        if line:
            lines.append(line)
    if table_exists(con, "reports", "rpt_intervention_effect"):
        row = first_row(
            con.execute(
                """
            select action, effect, ci_low, ci_high, n_treated + n_control
            from reports.rpt_intervention_effect
            where effect is not null and subgroup_type = 'all'
            order by (ci_low > 0) desc, effect desc limit 1
            """
            )
        )
        if row:
            action, eff, lo, hi, n = row
            lines.append(
                f"Best action: {action}, {eff * 100:+.1f} pts 90-day retention vs control "
                f"(95% CI {lo * 100:+.1f} to {hi * 100:+.1f}, n={n:,})."
            )
    elif table_exists(con, "reference", "playbook_actions"):
        row = first_row(
            con.execute(
                "select action, assumed_effect from reference.playbook_actions order by assumed_effect desc limit 1"
            )
        )
        if row:
            lines.append(f"Best action (assumed, not yet measured): {row[0]} (+{row[1] * 100:.0f} pts).")
    return "\n".join(lines) if lines else "No churn scores in this warehouse yet."
