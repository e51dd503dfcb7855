"""Reuse a segmentation whose inputs did not change.

K-Means over every eligible customer is the segments job's whole cost, and a rebuild without new data must not
redo it. A result is stored under `<model_dir>/segments/seg-<key>.parquet`, where the key hashes what each input
was computed from, the settings and this package's code: the same inputs give the same file, nothing depends on
build history. An input with `inputs_fingerprint` (the incremental marts at a snapshot, churn_scores per row) is
known by those values, read without reading its rows (hashing every input row cost 5 s at 1M customers, on every
build); a code change upstream then reclusters once. An input without them is known by its content (order-free,
floats at ~12 significant digits).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from python_jobs.churn.registry import data_fingerprint, stable_hash
from python_jobs.files import source_digest, write_atomically
from python_jobs.progress import announce
from python_jobs.warehouse import only_row

log = logging.getLogger(__name__)
PACKAGE_DIR = Path(__file__).resolve().parent


def input_fingerprint(relation: Any) -> str:
    """A DuckDB relation's fingerprint: a hash of its distinct inputs_fingerprint values, else of its content."""
    if "inputs_fingerprint" in relation.columns:
        (value,) = only_row(
            relation.aggregate(
                "md5(coalesce(string_agg(distinct inputs_fingerprint, ',' order by inputs_fingerprint), ''))"
            )
        )
        return f"inputs:{value}"
    frame = relation.df()
    return f"content:{data_fingerprint(frame, list(frame.columns))}"


def segmentation_key(inputs: Mapping[str, str], settings: Mapping[str, Any]) -> str:
    """The cache key of a segmentation: each input's fingerprint (input_fingerprint), the settings, the code."""
    code = source_digest(sorted(PACKAGE_DIR.glob("*.py")))[:12]
    return stable_hash({"inputs": dict(inputs), "settings": dict(settings), "code": code})


def cached(model_dir: str | Path, key: str, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """The stored result for `key`, or `compute()` stored under it."""
    path = Path(model_dir) / "segments" / f"seg-{key}.parquet"
    if path.exists():
        announce(f"customer_segments: inputs unchanged, reusing {path} (no K-Means fit)", log)
        return pd.read_parquet(path)
    result = compute()
    write_atomically(path, lambda tmp: result.to_parquet(tmp, index=False))
    announce(f"customer_segments: fitted and stored {path}", log)
    return result
