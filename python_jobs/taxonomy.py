"""The complaint topics: seeds/topic_taxonomy.csv is the one list (dbt's voice_topics macro reads the same file).

The synthetic world, the tag schema, the prompt and the local tagger take their topic keys from here, in seed order.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from python_jobs.config import REPO_ROOT

TAXONOMY_PATH = REPO_ROOT / "seeds" / "topic_taxonomy.csv"


@cache
def topic_keys(path: Path = TAXONOMY_PATH) -> tuple[str, ...]:
    """Topic keys of the taxonomy seed, in file order."""
    with path.open(newline="", encoding="utf-8") as handle:
        keys = tuple(row["topic_key"].strip() for row in csv.DictReader(handle))
    if not keys or len(set(keys)) != len(keys) or "other" not in keys:
        raise ValueError(f"{path}: topic keys must be unique, non-empty and include 'other'")
    return keys
