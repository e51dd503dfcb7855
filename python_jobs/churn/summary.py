"""Plain-text model comparison for `make demo` (reads reports.rpt_model_comparison)."""

from __future__ import annotations

import duckdb

QUERY = """
select model_label, roc_auc, pr_auc, top_decile_lift, auc_diff_vs_baseline, auc_diff_ci_low,
       auc_diff_ci_high, is_champion, eval_snapshot_date, n_rows, base_rate
from reports.rpt_model_comparison
order by display_order
"""


def _fmt(v: float | None, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def comparison_text(con: duckdb.DuckDBPyConnection) -> str:
    """Baseline vs enhanced vs peers on the out-of-time test snapshot, as an aligned table."""
    try:
        rows = con.execute(QUERY).fetchall()
    except duckdb.Error:
        return "Model comparison: not built (reports.rpt_model_comparison missing)"
    if not rows:
        return "Model comparison: no rows"
    snap, n, rate = rows[0][8], rows[0][9], rows[0][10]
    lines = [
        f"Churn model comparison (out-of-time test snapshot {snap}: {int(n):,} customers, churn rate {rate:.1%})",
        f"  {'model':<26} {'ROC-AUC':>8} {'PR-AUC':>8} {'lift@10%':>9}   AUC vs baseline [95% CI]",
    ]
    for label, auc, pr, lift, diff, lo, hi, champ, *_ in rows:
        ci = f"{diff:+.3f} [{lo:+.3f}, {hi:+.3f}]" if diff is not None else ""
        mark = "  <- champion (scores)" if champ else ""
        lines.append(
            f"  {label:<26} {_fmt(auc, '8.3f')} {_fmt(pr, '8.3f')} {_fmt(lift, '9.2f')}   {ci}{mark}"
        )
    return "\n".join(lines)
