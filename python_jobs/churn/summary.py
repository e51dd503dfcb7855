"""Plain-text model comparison for `make demo` (reads reports.rpt_model_comparison)."""

from __future__ import annotations

import duckdb

QUERY = """
select model_label, roc_auc, pr_auc, top_decile_lift, auc_diff_vs_baseline, auc_diff_ci_low,
       auc_diff_ci_high, active_roc_auc, is_champion, eval_snapshot_date, n_rows, base_rate, active_n_rows,
       active_auc_diff_vs_baseline, active_auc_diff_ci_low, active_auc_diff_ci_high
from reports.rpt_model_comparison
order by display_order
"""


def _fmt(v: float | None, spec: str) -> str:
    return "-".rjust(len(format(0.0, spec))) if v is None else format(v, spec)


def comparison_text(con: duckdb.DuckDBPyConnection) -> str:
    """Baseline vs enhanced vs peers on the out-of-time test snapshot, as an aligned table."""
    try:
        rows = con.execute(QUERY).fetchall()
    except duckdb.Error:
        return "Model comparison: not built (reports.rpt_model_comparison missing)"
    if not rows:
        return "Model comparison: no rows"
    snap, n, rate, n_active = rows[0][9], rows[0][10], rows[0][11], rows[0][12]
    active = f"; {int(n_active):,} ordered in the last 60 days" if n_active else ""
    lines = [
        f"Churn model comparison, out-of-time test snapshot {snap}: {int(n):,} customers, "
        f"churn rate {rate:.1%}{active}",
        f"  {'model':<22} {'ROC-AUC':>8} {'PR-AUC':>7} {'lift@10%':>8}  {'AUC vs baseline [95% CI]':<26} "
        "ROC-AUC, ordered in last 60 days [vs baseline]",
    ]
    for label, auc, pr, lift, diff, lo, hi, active_auc, champ, *_, a_diff, a_lo, a_hi in rows:
        ci = f"{diff:+.3f} [{lo:+.3f}, {hi:+.3f}]" if diff is not None else ""
        a_ci = f" [{a_diff:+.3f}, CI {a_lo:+.3f}..{a_hi:+.3f}]" if a_diff is not None else ""
        mark = "  <- scores" if champ else ""
        lines.append(
            f"  {label:<22} {_fmt(auc, '8.3f')} {_fmt(pr, '7.3f')} {_fmt(lift, '8.2f')}  {ci:<26} "
            f"{_fmt(active_auc, '5.3f')}{a_ci}{mark}"
        )
    return "\n".join(lines)
