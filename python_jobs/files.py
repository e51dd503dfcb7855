"""Files a build keeps for later builds (model artifacts, caches): written whole or not at all, and the digest of
the source files that made them."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path


def write_atomically(path: Path, write: Callable[[str], None]) -> None:
    """`write(tmp)` into a temporary file beside `path`, then rename it over `path`: a reader (or a build killed
    midway) sees the old file or the new one, never a half-written one. Readable by everyone (mkstemp's 0600 would
    hide artifacts from other users of a shared model dir)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # no extension of its own: a *.json or *.pkl glob over the folder never takes a leftover for an artifact
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def source_digest(paths: Iterable[Path]) -> str:
    """sha256 (hex) of each file's name and content, in the order given: what a cache key calls "this code"."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
