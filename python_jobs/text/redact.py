"""PII redaction applied to every text before any model (local or remote) sees it."""

from __future__ import annotations

import re

# Bump when the rules change: the cache key includes it, so changed redaction means re-tagging.
REDACTION_VERSION = "redact-v1"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# 13-19 digits, optionally grouped by spaces or dashes (card-like numbers).
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
# Phone numbers: optional +country, then 7-15 digits with common separators.
_PHONE = re.compile(
    r"(?<![0-9A-Za-z+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d(?:[ .-]?\d){6,13}(?![0-9A-Za-z])"
)
_DATE = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{4}$")


def _phone(match: re.Match[str]) -> str:
    return match.group(0) if _DATE.match(match.group(0)) else "[PHONE]"


def redact(text: str | None) -> str:
    """Replace emails, card-like numbers and phone numbers by placeholders."""
    if not text:
        return ""
    text = _EMAIL.sub("[EMAIL]", text)
    text = _CARD.sub("[CARD]", text)
    return _PHONE.sub(_phone, text)
