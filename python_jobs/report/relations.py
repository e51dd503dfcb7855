"""Which warehouse relations the report can read. Table lookups go through `warehouse.table_exists` (one place);
data.py and headline.py both read through here, so neither imports the other's internals."""

from __future__ import annotations

import duckdb

from python_jobs.warehouse import table_exists

__all__ = ["risk_relation", "table_exists"]


def risk_relation(con: duckdb.DuckDBPyConnection) -> str | None:
    """rpt_churn_risk, or ml.churn_scores when only the models were built (both carry the score columns)."""
    return next(
        (
            f"{s}.{n}"
            for s, n in (("reports", "rpt_churn_risk"), ("ml", "churn_scores"))
            if table_exists(con, s, n)
        ),
        None,
    )
