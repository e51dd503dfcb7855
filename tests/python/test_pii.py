"""No personal data planted in raw text reaches any table, log, cache, model file or the report.

Uses the shared end-to-end build (conftest.e2e_world): PII is planted in every raw free-text column and every
customer e-mail before `dbt build`, and staging redacts text with python_jobs.text.redact's rules and hashes
e-mails. Every table and view in every schema is searched (staging included), then every file the build wrote.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from pii import IDENTIFIER_COLUMNS, NOT_TEXT, PLANTED_ROWS, TEXT_COLUMNS, needles, varchar_contract_columns

pytestmark = pytest.mark.e2e


def test_every_varchar_contract_column_is_text_id_or_code() -> None:
    known = {(t, c) for m in (TEXT_COLUMNS, IDENTIFIER_COLUMNS) for t, cols in m.items() for c in cols}
    unclassified = [
        (table, col)
        for table, cols in varchar_contract_columns().items()
        for col in cols
        if (table, col) not in known and col not in NOT_TEXT
    ]
    assert not unclassified, f"classify these raw columns in tests/python/pii.py: {unclassified}"


def _text_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    rows = con.execute(
        """
        select table_schema || '.' || table_name, column_name
        from information_schema.columns
        where data_type like '%VARCHAR%' and table_catalog = current_database()
        order by all
        """
    ).fetchall()
    out: dict[str, list[str]] = {}
    for relation, column in rows:
        out.setdefault(relation, []).append(column)
    return out


def test_no_planted_pii_in_any_table_or_view(e2e_world: Path) -> None:
    with duckdb.connect(str(e2e_world / "churn.duckdb"), read_only=True) as con:
        relations = _text_columns(con)
        assert len(relations) > 30 and "staging.base_synthetic__reviews" in relations
        hits = {}
        for relation, cols in relations.items():
            text = " || chr(1) || ".join(f"coalesce(cast(\"{c}\" as varchar), '')" for c in cols)
            found = con.execute(
                f"select count(*) from {relation} where "
                + " or ".join(f"contains({text}, '{n}')" for n in needles())
            ).fetchone()[0]
            if found:
                hits[relation] = found
        assert not hits, f"planted PII found in: {hits}"
        # the planted texts are there, redacted (not dropped)
        counts = con.execute(
            """
            select
                count(*) filter (where body like '%[EMAIL]%[PHONE]%[CARD]%'),
                count(*) filter (where title like '%[EMAIL]%[PHONE]%[CARD]%')
            from marts.fct_reviews
            """
        ).fetchone()
        assert min(counts) >= PLANTED_ROWS // 2, counts
        hashed = con.execute(
            "select count(email_hash), count(*) from staging.stg_synthetic__customers"
        ).fetchone()
        assert hashed[0] == hashed[1] > 0


def test_no_planted_pii_in_logs_caches_models_or_report(e2e_world: Path) -> None:
    files = [p for p in e2e_world.rglob("*") if p.is_file() and "raw" not in p.relative_to(e2e_world).parts]
    names = {p.relative_to(e2e_world).parts[0] for p in files}
    assert {"logs", "llm_cache.sqlite", "models", "report.html", "target"} <= names, names
    assert (e2e_world / "logs" / "dbt.log").stat().st_size > 0
    leaks = [
        (str(path.relative_to(e2e_world)), needle)
        for path in files
        if path.name != "churn.duckdb"  # searched table by table above (its pages may be compressed)
        for needle in needles()
        if needle.encode() in path.read_bytes()
    ]
    assert not leaks, leaks
