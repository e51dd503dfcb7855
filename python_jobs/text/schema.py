"""The versioned tag schema: what every tagger (local or remote) must return for one text."""

from __future__ import annotations

import math
import re
from typing import Any

from python_jobs.taxonomy import topic_keys

# Bump when the meaning or shape of a tag changes: cached tags of another version are never reused.
SCHEMA_VERSION = "tags-v1"

# The complaint topics: seeds/topic_taxonomy.csv, read once (python_jobs/taxonomy.py).
TOPICS: tuple[str, ...] = topic_keys()
LABELS: tuple[str, ...] = ("negative", "neutral", "positive")
TAG_FIELDS: tuple[str, ...] = (
    "sentiment",
    "sentiment_label",
    "topics",
    "churn_intent",
    "intensity",
    "language",
    "evidence",
)
EVIDENCE_MAX_CHARS = 200
_LANG_RE = re.compile(r"^[a-z]{2,3}$")


def tag_properties() -> dict[str, Any]:
    return {
        "sentiment": {
            "type": "number",
            "minimum": -1,
            "maximum": 1,
            "description": "-1 very negative .. 1 very positive",
        },
        "sentiment_label": {"type": "string", "enum": list(LABELS)},
        "topics": {
            "type": "array",
            "items": {"type": "string", "enum": list(TOPICS)},
            "description": "every topic the text is about; ['other'] when none fits",
        },
        "churn_intent": {
            "type": "boolean",
            "description": "the writer says they will stop buying, cancel, or switch to another shop",
        },
        "intensity": {"type": "number", "minimum": 0, "maximum": 1, "description": "anger or urgency, 0..1"},
        "language": {"type": "string", "description": "ISO 639-1 code of the text, e.g. en, zh, pt"},
        "evidence": {
            "type": "string",
            "maxLength": EVIDENCE_MAX_CHARS,
            "description": "a short quote from the text that supports the tags",
        },
    }


def tag_schema() -> dict[str, Any]:
    """JSON schema for the tags of one text."""
    return {
        "type": "object",
        "properties": tag_properties(),
        "required": list(TAG_FIELDS),
        "additionalProperties": False,
    }


def batch_schema() -> dict[str, Any]:
    """JSON schema for one request tagging several texts: {"items": [{"id": ..., <tags>}, ...]}."""
    item = {
        "type": "object",
        "properties": {"id": {"type": "string"}, **tag_properties()},
        "required": ["id", *TAG_FIELDS],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {"items": {"type": "array", "items": item}},
        "required": ["items"],
        "additionalProperties": False,
    }


def label_for(sentiment: float, neutral_band: float = 0.15) -> str:
    if sentiment >= neutral_band:
        return "positive"
    if sentiment <= -neutral_band:
        return "negative"
    return "neutral"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def validate_tags(obj: Any) -> tuple[dict[str, Any] | None, str | None]:
    """Check one text's tags; return (clean tags, None) or (None, reason).

    Light repairs only (topic order/duplicates, evidence trimmed); anything that changes meaning is a failure.
    """
    if not isinstance(obj, dict):
        return None, f"not an object: {type(obj).__name__}"
    missing = [f for f in TAG_FIELDS if f not in obj]
    if missing:
        return None, f"missing fields: {', '.join(missing)}"
    sentiment = _number(obj["sentiment"])
    if sentiment is None or not -1.0 <= sentiment <= 1.0:
        return None, f"sentiment out of range: {obj['sentiment']!r}"
    label = obj["sentiment_label"]
    if label not in LABELS:
        return None, f"bad sentiment_label: {label!r}"
    if (label == "positive" and sentiment < -0.25) or (label == "negative" and sentiment > 0.25):
        return None, f"sentiment_label {label} contradicts sentiment {sentiment:.2f}"
    topics = obj["topics"]
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        return None, "topics is not a list of strings"
    unknown = sorted({t for t in topics if t not in TOPICS})
    if unknown:
        return None, f"unknown topics: {', '.join(unknown)}"
    if not isinstance(obj["churn_intent"], bool):
        return None, f"churn_intent is not a boolean: {obj['churn_intent']!r}"
    intensity = _number(obj["intensity"])
    if intensity is None or not 0.0 <= intensity <= 1.0:
        return None, f"intensity out of range: {obj['intensity']!r}"
    language = obj["language"]
    if not isinstance(language, str) or not _LANG_RE.match(language.strip().lower()):
        return None, f"bad language code: {language!r}"
    evidence = obj["evidence"]
    if not isinstance(evidence, str):
        return None, "evidence is not a string"
    clean = {
        "sentiment": sentiment,
        "sentiment_label": label,
        "topics": [t for t in TOPICS if t in set(topics)] or ["other"],
        "churn_intent": obj["churn_intent"],
        "intensity": intensity,
        "language": language.strip().lower(),
        "evidence": evidence.strip()[:EVIDENCE_MAX_CHARS],
    }
    return clean, None
