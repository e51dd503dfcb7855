"""Reuse a segmentation whose inputs did not change.

K-Means over every eligible customer is the segments job's whole cost, and a rebuild without new data must not
redo it. A result is stored content-addressed, `<model_dir>/segments/seg-<key>.parquet`, where the key hashes
every input frame (order-free, floats at ~12 significant digits), the settings and this package's code: the
same inputs give the same file, nothing depends on build history.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from python_jobs.churn.registry import data_fingerprint, stable_hash

log = logging.getLogger(__name__)
PACKAGE_DIR = Path(__file__).resolve().parent


def segmentation_key(frames: Mapping[str, pd.DataFrame | None], settings: Mapping[str, Any]) -> str:
    code = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.glob("*.py")):
        code.update(path.name.encode() + path.read_bytes())
    return stable_hash(
        {
            "frames": {
                k: None if f is None else data_fingerprint(f, list(f.columns)) for k, f in frames.items()
            },
            "settings": dict(settings),
            "code": code.hexdigest()[:12],
        }
    )


def cached(model_dir: str | Path, key: str, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """The stored result for `key`, or `compute()` stored under it."""
    path = Path(model_dir) / "segments" / f"seg-{key}.parquet"
    if path.exists():
        log.info("segments: inputs unchanged, reusing %s (no K-Means fit)", path)
        return pd.read_parquet(path)
    result = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".parquet")
    os.close(fd)
    try:
        result.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    log.info("segments: fitted and stored %s", path)
    return result
