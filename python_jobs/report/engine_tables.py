"""The report's tables from a PostgreSQL or Spark warehouse, copied into an in-memory DuckDB.

The report's queries are DuckDB SQL; on a copy of the tables they read they run unchanged on every engine.
Only those tables are copied (report marts, model metrics and curves, segments, reference seeds: at 1M customers
the largest is one row per scored customer); the source tables the report only counts are counted where they
live, not copied.
"""

from __future__ import annotations

import duckdb

from python_jobs.engines.steps import copy_to_session
from python_jobs.engines.warehouse_io import Warehouse
from python_jobs.report.data import SOURCE_TABLES

REPORT_TABLES = (
    ("reports", "rpt_churn_risk"),
    ("reports", "rpt_model_comparison"),
    ("reports", "rpt_segment_summary"),
    ("reports", "rpt_complaint_topics"),
    ("reports", "rpt_intervention_effect"),
    ("reports", "rpt_intervention_queue"),
    ("ml", "churn_model_metrics"),
    ("ml", "churn_model_curves"),
    ("ml", "customer_segments"),
    ("reference", "churn_features"),
    ("reference", "playbook_actions"),
)
FALLBACK_RISK = ("ml", "churn_scores")  # relations.risk_relation: read only when rpt_churn_risk is missing


def report_tables(warehouse: Warehouse) -> tuple[duckdb.DuckDBPyConnection, dict[str, int]]:
    """(an in-memory DuckDB holding the report's tables that exist in `warehouse`, source table row counts)."""
    con = duckdb.connect()
    present = [(s, t) for s, t in REPORT_TABLES if warehouse.exists(s, t)]
    if ("reports", "rpt_churn_risk") not in present and warehouse.exists(*FALLBACK_RISK):
        present.append(FALLBACK_RISK)
    for schema, table in present:
        copy_to_session(con, schema, table, warehouse.read(schema, table))
    counts = {
        what: warehouse.row_count("marts", table)
        for what, table in SOURCE_TABLES.items()
        if warehouse.exists("marts", table)
    }
    return con, counts
