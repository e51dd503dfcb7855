"""PII redaction: one rule list, applied in Python (the LLM path) and in SQL (staging, via a generated macro).

Every raw free-text column is redacted at the staging boundary by `macros/redact_text.sql`, which is generated
from `RULES` below (`python -m python_jobs.text.redact` rewrites it; a test fails when it is stale). The text
path (`runner`, `embed`) applies `redact` again before anything reaches a model, which is a no-op on staged text.

So that both engines give the same output, each rule is a plain global regex substitution written in the
common subset of Python `re` and RE2 (DuckDB's regexp_replace): ASCII classes instead of \\w and \\d, no
lookarounds. A boundary character is matched as group 1 / the last group and written back; because matches
do not overlap, a boundary shared by two adjacent hits is consumed by the first, so such rules run twice.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

# Bump when the rules change: the cache key includes it, so changed redaction means re-tagging.
REDACTION_VERSION = "redact-v2"

# Marks the separators of a date so the phone rule cannot take it; removed again by the last rule.
_KEEP = "\ue000"


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: str  # Python re == RE2 syntax subset
    replacement: str  # \1..\9 group references only
    passes: int = 1


RULES: tuple[Rule, ...] = (
    Rule("drop_marker", _KEEP, ""),
    Rule("email", r"[A-Za-z0-9_.+-]+@[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+", "[EMAIL]"),
    # Dates (yyyy-mm-dd, dd.mm.yyyy, ...) are neither cards nor phone numbers: mark their separators.
    Rule(
        "keep_date_ymd",
        r"(^|[^0-9])([0-9]{4})([-.])([0-9]{1,2})([-.])([0-9]{1,2})([^0-9]|$)",
        rf"\1\2{_KEEP}\3\4{_KEEP}\5\6\7",
        passes=2,
    ),
    Rule(
        "keep_date_dmy",
        r"(^|[^0-9])([0-9]{1,2})([-.])([0-9]{1,2})([-.])([0-9]{4})([^0-9]|$)",
        rf"\1\2{_KEEP}\3\4{_KEEP}\5\6\7",
        passes=2,
    ),
    # 13-19 digits, optionally grouped by spaces or dashes (card-like numbers).
    Rule("card", r"(^|[^0-9])(?:[0-9][ -]?){12,18}[0-9]([^0-9]|$)", r"\1[CARD]\2", passes=2),
    # Phone numbers: optional +country and (area), then 7-15 digits with common separators.
    Rule(
        "phone",
        r"(^|[^0-9A-Za-z+])(?:\+[0-9]{1,3}[ .-]?)?(?:\([0-9]{1,4}\)[ .-]?)?[0-9](?:[ .-]?[0-9]){6,13}"
        r"([^0-9A-Za-z]|$)",
        r"\1[PHONE]\2",
        passes=2,
    ),
    Rule("drop_date_marker", _KEEP, ""),
)

_COMPILED = [(re.compile(rule.pattern), rule.replacement, rule.passes) for rule in RULES]
# Every rule needs an '@', a digit or the date marker: a text with none of them is returned as it is.
_MAY_MATCH = re.compile(f"[@0-9{_KEEP}]")


def redact(text: str | None) -> str:
    """Replace emails, card-like numbers and phone numbers by [EMAIL], [CARD] and [PHONE]."""
    if not text:
        return ""
    if not _MAY_MATCH.search(text):
        return text
    for pattern, replacement, passes in _COMPILED:
        for _ in range(passes):
            text = pattern.sub(replacement, text)
    return text


# --- the dbt macro generated from RULES ---------------------------------------------------------------------

MACRO_PATH = Path(__file__).resolve().parents[2] / "macros" / "redact_text.sql"


def _sql_literal(value: str) -> str:
    """A SQL string expression for `value`: quotes doubled, non-ASCII characters as chr(n)."""
    parts: list[str] = []
    chunk = ""
    for char in value:
        if ord(char) < 128:
            chunk += char.replace("'", "''")
            continue
        if chunk:
            parts.append(f"'{chunk}'")
            chunk = ""
        parts.append(f"chr({ord(char)})")
    if chunk or not parts:
        parts.append(f"'{chunk}'")
    return " || ".join(parts)


def _spark_literal(value: str) -> str:
    """A Spark SQL string literal: backslashes and quotes escaped, non-ASCII as \\uXXXX (Spark's chr(n) is n mod 256)."""
    out = []
    for char in value:
        if char in "\\'":
            out.append("\\" + char)
        elif ord(char) < 128:
            out.append(char)
        else:
            out.append(f"\\u{ord(char):04X}")
    return "'" + "".join(out) + "'"


def _nested_sql(steps: list[Rule], spark: bool = False) -> str:
    """Nested regexp_replace calls. DuckDB and PostgreSQL: POSIX-style flags ('g') and \\N group references;
    Spark: Java regex, which replaces every match by default and writes group references as $N."""
    sql = "{{ expr }}"
    for rule in steps:
        if spark:
            replacement = re.sub(r"\\(\d)", r"$\1", rule.replacement)
            args = f"{_spark_literal(rule.pattern)}, {_spark_literal(replacement)}"
        else:
            args = f"{_sql_literal(rule.pattern)}, {_sql_literal(rule.replacement)}, 'g'"
        sql = "regexp_replace(\n" + textwrap.indent(f"{sql},\n{args}", "    ") + "\n)"
    return sql


def render_macro() -> str:
    """The text of macros/redact_text.sql: nested regexp_replace calls, one per rule and pass, per dialect."""
    for rule in RULES:
        for jinja in ("{%", "{{", "{#"):
            assert jinja not in rule.pattern + rule.replacement, f"rule {rule.name} contains {jinja}"
    steps = [rule for rule in RULES for _ in range(rule.passes)]
    names = ", ".join(r.name + (f" x{r.passes}" if r.passes > 1 else "") for r in RULES)
    return (
        "{#-\n"
        "    GENERATED from python_jobs/text/redact.py (RULES) by `python -m python_jobs.text.redact`; do not edit.\n"
        "    The SQL twin of python_jobs.text.redact.redact(): replaces emails, card-like numbers and phone numbers\n"
        "    in a text expression by [EMAIL], [CARD] and [PHONE]; null stays null.\n"
        f"    Rules in order: {names}.\n"
        "-#}\n"
        "{% macro redact_text(expr) -%}\n"
        "    {{ return(adapter.dispatch('redact_text')(expr)) }}\n"
        "{%- endmacro %}\n\n"
        "{% macro default__redact_text(expr) -%}\n"
        + textwrap.indent(_nested_sql(steps), "    ")
        + "\n{%- endmacro %}\n\n"
        "{% macro spark__redact_text(expr) -%}\n"
        + textwrap.indent(_nested_sql(steps, spark=True), "    ")
        + "\n{%- endmacro %}\n"
    )


if __name__ == "__main__":
    MACRO_PATH.write_text(render_macro(), encoding="utf-8")
    print(f"wrote {MACRO_PATH}")
