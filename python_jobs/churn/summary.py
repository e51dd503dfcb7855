"""Plain-text model comparison for `make demo` / `churn build` (reads reports.rpt_model_comparison)."""

from __future__ import annotations

import duckdb

QUERY = """
select model_label, roc_auc, pr_auc, top_decile_lift, auc_diff_vs_baseline, auc_diff_ci_low,
       auc_diff_ci_high, vs_best_peer, active_roc_auc, is_champion, eval_snapshot_date, n_rows, base_rate,
       active_n_rows, active_auc_diff_vs_baseline, active_auc_diff_ci_low, active_auc_diff_ci_high,
       champion_note, is_evaluation_sufficient, evaluation_note, run_note
from reports.rpt_model_comparison
order by display_order
"""


def _fmt(v: float | None, spec: str) -> str:
    return "-".rjust(len(format(0.0, spec))) if v is None else format(v, spec)


def comparison_text(con: duckdb.DuckDBPyConnection) -> str:
    """Baseline vs enhanced vs peers on the out-of-time test snapshot, as an aligned table, then the caveats:
    the champion beaten on test, an evaluation too small to trust, no text (baseline only)."""
    try:
        cursor = con.execute(QUERY)
        columns = [d[0] for d in cursor.description]
        rows = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
    except duckdb.Error:
        return "Model comparison: not built (reports.rpt_model_comparison missing)"
    if not rows:
        return "Model comparison: no rows"
    first = rows[0]
    active = (
        f"; {int(first['active_n_rows']):,} ordered in the last 60 days" if first["active_n_rows"] else ""
    )
    lines = [
        f"Churn model comparison, out-of-time test snapshot {first['eval_snapshot_date']}: "
        f"{int(first['n_rows']):,} customers, churn rate {first['base_rate']:.1%}{active}",
        f"  {'model':<22} {'ROC-AUC':>8} {'PR-AUC':>7} {'lift@10%':>8}  {'AUC vs baseline [95% CI]':<26} "
        f"{'vs best peer':<12} ROC-AUC, ordered in last 60 days [vs baseline]",
    ]
    for r in rows:
        diff, lo, hi = r["auc_diff_vs_baseline"], r["auc_diff_ci_low"], r["auc_diff_ci_high"]
        ci = f"{diff:+.3f} [{lo:+.3f}, {hi:+.3f}]" if diff is not None else ""
        a_diff = r["active_auc_diff_vs_baseline"]
        a_ci = (
            f" [{a_diff:+.3f}, CI {r['active_auc_diff_ci_low']:+.3f}..{r['active_auc_diff_ci_high']:+.3f}]"
            if a_diff is not None
            else ""
        )
        mark = "  <- scores" if r["is_champion"] else ""
        lines.append(
            f"  {r['model_label']:<22} {_fmt(r['roc_auc'], '8.3f')} {_fmt(r['pr_auc'], '7.3f')} "
            f"{_fmt(r['top_decile_lift'], '8.2f')}  {ci:<26} {r['vs_best_peer'] or '':<12} "
            f"{_fmt(r['active_roc_auc'], '5.3f')}{a_ci}{mark}"
        )
    lines += [f"  Champion: {r['champion_note']}" for r in rows if r["champion_note"]]
    notes = sorted(
        {r["evaluation_note"] for r in rows if not r["is_evaluation_sufficient"] and r["evaluation_note"]}
    )
    lines += [f"  CAUTION: {note}" for note in notes]
    lines += sorted({f"  Note: {r['run_note']}" for r in rows if r["run_note"]})
    return "\n".join(lines)
