"""One redactor, two engines: python_jobs.text.redact.redact and the generated dbt macro agree on a corpus."""

from __future__ import annotations

import random

import duckdb
import jinja2
import pytest

from python_jobs.text.redact import MACRO_PATH, redact, render_macro

CASES = {
    "Mail a.b+c@shop.example.com, call +44 20 7946 0958 or 13812345678, card 4111-1111-1111-1111, on 2024-05-01": (
        "Mail [EMAIL], call [PHONE] or [PHONE], card [CARD], on 2024-05-01"
    ),
    "order 12345 arrived": "order 12345 arrived",
    "card 4111 1111 1111 1111 4111111111111111\n4111 1111 1111 1111": "card [CARD] [CARD]\n[CARD]",
    "call (415) 555-0142, 415.555.0199 or +1 555 123 4567": "call [PHONE], [PHONE] or [PHONE]",
    "联系我 jane.doe+x@example.org 电话 13812345678。": "联系我 [EMAIL] 电话 [PHONE]。",
    "2024-05-01 2024-05-02 12:30 and 01.02.2024": "2024-05-01 2024-05-02 12:30 and 01.02.2024",
    "tel:+33612345678;fax:+33 6 12 34 56 78": "tel:[PHONE];fax:[PHONE]",
    "1234567890123456789012 is too long for a card": "1234567890123456789012 is too long for a card",
    "": "",
}


def _fuzz(n: int, seed: int = 7) -> list[str]:
    """Random strings dense in digits, separators and e-mail characters: where two regex engines differ."""
    rng = random.Random(seed)
    alphabet = "0123456789" * 3 + " -.+()@ab_/\n联"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 48))) for _ in range(n)]


CORPUS = [*CASES, *_fuzz(3_000)]


@pytest.fixture(scope="module")
def sql_redacted() -> dict[str, str | None]:
    """The corpus redacted by DuckDB through the committed macro file, rendered by Jinja as dbt would."""
    macro = (
        jinja2.Environment().from_string(MACRO_PATH.read_text(encoding="utf-8")).module.default__redact_text
    )
    con = duckdb.connect()
    con.execute("create table corpus as select * from unnest(?) as u(text)", [CORPUS])
    rows = con.execute(f"select text, {macro('text')} from corpus").fetchall()
    return dict(rows)


def test_macro_is_generated_from_the_rules() -> None:
    assert MACRO_PATH.read_text(encoding="utf-8") == render_macro(), (
        "macros/redact_text.sql is stale: run `python -m python_jobs.text.redact`"
    )


def test_python_redacts_the_known_cases() -> None:
    assert {text: redact(text) for text in CASES} == CASES


def test_sql_and_python_give_identical_output(sql_redacted: dict[str, str | None]) -> None:
    differ = [(text, sql, redact(text)) for text, sql in sql_redacted.items() if (sql or "") != redact(text)]
    assert not differ, differ[:5]
    assert sum(redact(t) != t for t in CORPUS) > 500  # the fuzz corpus does exercise the rules


def test_redaction_is_idempotent() -> None:
    # staging redacts, then the LLM path redacts again: the second pass must change nothing
    assert all(redact(redact(text)) == redact(text) for text in CORPUS)


@pytest.mark.engines
def test_spark_macro_matches_python() -> None:
    """The Spark variant of the macro (Java regex, $N references) redacts the corpus exactly as Python does."""
    import importlib.util
    import os
    import shutil

    if "spark" not in os.environ.get("CHURN_TEST_ENGINES", ""):
        pytest.skip("Spark tests run with `make test-engines` (CHURN_TEST_ENGINES=postgres,spark)")
    if importlib.util.find_spec("pyspark") is None or shutil.which("java") is None:
        pytest.skip("needs pyspark and a Java runtime")
    from pyspark.sql import SparkSession

    macro = jinja2.Environment().from_string(MACRO_PATH.read_text(encoding="utf-8")).module.spark__redact_text
    spark = SparkSession.builder.getOrCreate()
    spark.createDataFrame([(t,) for t in CORPUS], "text string").createOrReplaceTempView("corpus")
    rows = spark.sql(f"select text, {macro('text')} as redacted from corpus").collect()
    assert {r.text: r.redacted for r in rows} == {text: redact(text) for text in CORPUS}
