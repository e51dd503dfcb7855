"""The demo's closing headline: customers at high risk, revenue at risk, top three drivers, best action."""

from __future__ import annotations

import duckdb

from python_jobs.report.data import relation_exists

# Both carry the contracted churn_probability, risk_tier, revenue_at_risk and reason_1..3_feature columns.
RISK_RELATIONS = (("reports", "rpt_churn_risk"), ("ml", "churn_scores"))


def _risk_relation(con: duckdb.DuckDBPyConnection) -> str | None:
    return next((f"{s}.{n}" for s, n in RISK_RELATIONS if relation_exists(con, s, n)), None)


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
    if relation_exists(con, "reference", "churn_features"):
        labels = dict(
            con.execute("select feature_name, description from reference.churn_features").fetchall()
        )
        rows = [(labels.get(r, r), k) for r, k in rows]
    return rows


def headline_text(con: duckdb.DuckDBPyConnection) -> str:
    """One short paragraph from the report tables; parts whose tables are missing are left out."""
    lines: list[str] = []
    rel = _risk_relation(con)
    if rel:
        n, revenue, total_rev = con.execute(
            f"select count(*) filter (where risk_tier = 'high'), "
            f"sum(revenue_at_risk) filter (where risk_tier = 'high'), sum(revenue_at_risk) from {rel}"
        ).fetchone()
        text = f"High churn risk: {n:,} customers"
        if revenue is not None:
            text += f", {revenue:,.0f} revenue at risk"
            if total_rev:
                text += f" ({total_rev:,.0f} across all scored customers)"
        lines.append(text + ".")
        drivers = _drivers(con, rel)
        if drivers:
            lines.append("Top drivers: " + "; ".join(f"{r} ({k:,})" for r, k in drivers) + ".")
    if relation_exists(con, "reports", "rpt_intervention_effect"):
        row = con.execute(
            """
            select action, effect, ci_low, ci_high, n_treated + n_control
            from reports.rpt_intervention_effect
            where effect is not null and subgroup_type = 'all'
            order by (ci_low > 0) desc, effect desc limit 1
            """
        ).fetchone()
        if row:
            action, eff, lo, hi, n = row
            lines.append(
                f"Best action: {action}, +{eff * 100:.1f} pts 90-day retention vs control "
                f"(95% CI {lo * 100:+.1f} to {hi * 100:+.1f}, n={n:,})."
            )
    elif relation_exists(con, "reference", "playbook_actions"):
        row = con.execute(
            "select action, assumed_effect from reference.playbook_actions order by assumed_effect desc limit 1"
        ).fetchone()
        if row:
            lines.append(f"Best action (assumed, not yet measured): {row[0]} (+{row[1] * 100:.0f} pts).")
    return "\n".join(lines) if lines else "No churn scores in this warehouse yet."
