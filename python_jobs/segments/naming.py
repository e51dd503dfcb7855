"""Segment names and personas from profiles.

Rule-based and deterministic ("High-value, unhappy with delivery"): names follow from the profile, so they are
stable across builds and need no model. (An LLM-namer seam that nothing used was removed.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

TOPIC_PHRASES = {
    "product_quality": "unhappy with quality",
    "price_value": "price-sensitive",
    "customer_service": "frustrated with support",
    "returns_refunds": "stuck on returns and refunds",
    "packaging": "unhappy with packaging",
    "size_fit": "struggling with size and fit",
    "website_app": "struggling with the app",
    "delivery": "unhappy with delivery",
    "late_delivery": "unhappy with delivery",
    "shipping": "unhappy with delivery",
    "quality": "unhappy with quality",
    "defect": "unhappy with quality",
    "price": "price-sensitive",
    "pricing": "price-sensitive",
    "support": "frustrated with support",
    "refund": "waiting on refunds",
    "returns": "waiting on refunds",
    "app": "struggling with the app",
    "website": "struggling with the app",
    "payment": "payment trouble",
}


def _rel(value: float, values: pd.Series, log_scale: bool = False) -> float:
    """Where `value` sits among segment means: -1 (lowest) .. +1 (highest); money and counts on a log scale."""
    if log_scale:
        value, values = float(np.log1p(max(value, 0.0))), np.log1p(values.clip(lower=0))
    lo, hi = float(values.min()), float(values.max())
    return 0.0 if hi - lo < 1e-12 else 2 * (value - lo) / (hi - lo) - 1


def rule_name(profile: Mapping[str, Any], population: pd.DataFrame) -> tuple[str, str]:
    """Name and a persona (one or two sentences) from one profile row, relative to the other segments."""

    def col(name: str) -> float | None:
        v = profile.get(name)
        return None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)

    parts: list[str] = []
    value = col("mean_monetary")
    if value is not None and "mean_monetary" in population:
        r = _rel(value, population["mean_monetary"], log_scale=True)
        parts.append("High-value" if r > 0.33 else "Low-value" if r < -0.33 else "Mid-value")
    else:
        parts.append("Customers")

    topics = profile.get("top_topics")
    topics = list(topics) if topics is not None else []
    sentiment = col("mean_sentiment")
    complaint = col("complaint_rate")
    # Unhappiness from sentiment when the voice data has it (complaint counts grow with activity, so they
    # only stand in when there is no sentiment): clearly below the other segments and below their mean.
    if (
        sentiment is not None
        and "mean_sentiment" in population
        and population["mean_sentiment"].notna().any()
    ):
        others = population["mean_sentiment"]
        unhappy = _rel(sentiment, others) < -0.33 and sentiment < float(others.mean())
    else:
        unhappy = (
            complaint is not None
            and "complaint_rate" in population
            and _rel(complaint, population["complaint_rate"]) > 0.33
        )
    recency = col("mean_recency_days")
    rel_recency = (
        _rel(recency, population["mean_recency_days"], log_scale=True)
        if recency is not None and "mean_recency_days" in population
        else 0.0
    )
    freq = col("mean_frequency")
    rel_freq = (
        _rel(freq, population["mean_frequency"], log_scale=True)
        if freq is not None and "mean_frequency" in population
        else 0.0
    )
    descriptors = []
    if rel_recency > 0.33:
        descriptors.append("lapsing")
    if unhappy:
        descriptors.append(
            TOPIC_PHRASES.get(str(topics[0]), f"unhappy about {str(topics[0]).replace('_', ' ')}")
            if topics
            else "unhappy"
        )
    if not descriptors:
        if rel_freq > 0.33:
            descriptors.append("loyal regulars")
        elif rel_recency < -0.33:
            descriptors.append("recently active")
        else:
            descriptors.append("occasional buyers")
    name = ", ".join([parts[0], *descriptors])

    size = int(profile.get("customers", 0) or 0)
    orders_txt = f"{freq:.1f} orders a year" if freq is not None else "some orders"
    spend_txt = f", spending about {value:,.0f}" if value is not None else ""
    days_txt = f"; last order about {recency:.0f} days ago" if recency is not None else ""
    persona = f"{size:,} customers with {orders_txt}{spend_txt}{days_txt}." + (
        f" They mostly talk about {', '.join(str(t).replace('_', ' ') for t in topics[:2])}."
        if topics
        else ""
    )
    return name, persona


def name_segments(profiles: pd.DataFrame) -> pd.DataFrame:
    """Add `segment_name` and `segment_persona` to a profile frame; names are made unique."""
    names, personas = [], []
    for row in profiles.to_dict("records"):
        name, persona = rule_name(row, profiles)
        names.append(name)
        personas.append(persona)
    seen: dict[str, int] = {}
    unique = []
    for sid, name in zip(profiles["segment_id"], names, strict=True):
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} ({sid})")
    out = profiles.copy()
    out["segment_name"] = unique
    out["segment_persona"] = personas
    return out
