"""The demo's closing headline: customers at high risk, revenue at risk, top three drivers, best action."""

from __future__ import annotations

import duckdb

from python_jobs.report.data import columns, relation_exists


def _risk_relation(con: duckdb.DuckDBPyConnection) -> tuple[str, list[str]] | None:
    for schema, name in (("reports", "rpt_churn_risk"), ("ml", "churn_scores")):
        if relation_exists(con, schema, name):
            return f"{schema}.{name}", columns(con, schema, name)
    return None


def _reason_expr(con: duckdb.DuckDBPyConnection, rel: str, cols: list[str]) -> str | None:
    """A SQL expression yielding one row per reason (list column, delimited text, or reason_1..n columns)."""
    if "reasons" in cols:
        schema, name = rel.split(".")
        dtype = con.execute(
            "select data_type from information_schema.columns where table_schema=? and table_name=? "
            "and column_name='reasons'",
            [schema, name],
        ).fetchone()[0]
        if dtype.endswith("[]"):
            return "unnest(reasons)"
        return r"unnest(regexp_split_to_array(reasons, '\s*[|;,]\s*'))"
    features = [c for c in cols if c.startswith("reason_") and c.endswith("_feature") and c[7:-8].isdigit()]
    if features:
        return f"unnest([{', '.join(features)}])"
    numbered = [c for c in cols if c.startswith("reason_") and c[7:].isdigit()]
    if numbered:
        return f"unnest([{', '.join(numbered)}])"
    if "top_reason" in cols:
        return "top_reason"
    return None


def headline_text(con: duckdb.DuckDBPyConnection) -> str:
    """One short paragraph from the report tables; parts whose tables are missing are left out."""
    lines: list[str] = []
    found = _risk_relation(con)
    if found:
        rel, cols = found
        tier = "risk_tier" if "risk_tier" in cols else "tier" if "tier" in cols else None
        rev = "revenue_at_risk" if "revenue_at_risk" in cols else None
        where = f"where lower({tier}) = 'high'" if tier else ""
        n, revenue = con.execute(
            f"select count(*), {'sum(' + rev + ')' if rev else 'null'} from {rel} {where}"
        ).fetchone()
        total_rev = con.execute(f"select sum({rev}) from {rel}").fetchone()[0] if rev and tier else None
        text = f"High churn risk: {n:,} customers"
        if revenue is not None:
            text += f", {revenue:,.0f} revenue at risk"
            if total_rev:
                text += f" ({total_rev:,.0f} across all scored customers)"
        lines.append(text + ".")
        expr = _reason_expr(con, rel, cols)
        if expr:
            rows = con.execute(
                f"""
                select reason, count(*) as n from (select {expr} as reason from {rel} {where})
                where reason is not null and reason <> '' group by reason order by n desc, reason limit 3
                """
            ).fetchall()
            if relation_exists(con, "reference", "churn_features") and expr.startswith(
                "unnest([reason_1_feature"
            ):
                labels = dict(
                    con.execute("select feature_name, description from reference.churn_features").fetchall()
                )
                rows = [(labels.get(r, r), k) for r, k in rows]
            if rows:
                lines.append("Top drivers: " + "; ".join(f"{r} ({k:,})" for r, k in rows) + ".")
    if relation_exists(con, "reports", "rpt_intervention_effect"):
        ecols = columns(con, "reports", "rpt_intervention_effect")
        tier_filter = "and subgroup_type = 'all'" if "subgroup_type" in ecols else ""
        row = con.execute(
            f"""
            select action, effect, ci_low, ci_high, n_treated + n_control
            from reports.rpt_intervention_effect
            where effect is not null {tier_filter}
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
