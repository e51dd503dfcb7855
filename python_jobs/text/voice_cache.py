"""What customer_voice_embedding_pcs keeps between builds: the fitted basis and every text's projection on it.

A nightly build adds one snapshot, but its means read every text written before it: without this, each build
streamed all embeddings twice (fit the basis, project every text; 2 GB at 1M customers). The basis is a function
of the training snapshots' texts, the settings and the code, all in its `basis_hash` (voice.fingerprints_and_basis),
and a text's projection is a function of its embedding and the basis, row by row (voice._project). So both are
stored under `<model_dir>/voice/<basis_hash>/`, and a build reads the stored projections and streams only the
embeddings of texts it has not projected yet: O(new texts). A text is known by the hash of its key columns
(voice.TEXT_KEY_COLUMNS: id, customer, time, content hash, embedding model), so an edited or re-embedded text is
projected again. The files are a cache: deleting them costs one full pass, never a different number.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.decomposition import PCA

from python_jobs.files import write_atomically

log = logging.getLogger(__name__)


class VoiceCache:
    """The basis and projections stored for one basis_hash; `text_hashes` identify the current texts (input
    order)."""

    def __init__(self, model_dir: str | Path, basis_hash: str, text_hashes: np.ndarray) -> None:
        self.folder = Path(model_dir) / "voice" / basis_hash
        self.text_hashes = np.asarray(text_hashes, dtype=np.uint64)

    def basis(self) -> PCA | None:
        path = self.folder / "basis.npz"
        if not path.exists():
            return None
        stored = np.load(path)
        pca = PCA(n_components=stored["components"].shape[0])
        pca.mean_, pca.components_ = stored["mean"], stored["components"]
        pca.explained_variance_ratio_ = stored["explained_variance_ratio"]
        pca.n_components_ = stored["components"].shape[0]
        log.info("voice PCs: basis reused from %s", path)
        return pca

    def store_basis(self, pca: PCA) -> None:
        def save(tmp: str) -> None:
            with open(tmp, "wb") as fh:  # a file object: given a name without .npz, savez would append it
                np.savez(
                    fh,
                    mean=pca.mean_,
                    components=pca.components_,
                    explained_variance_ratio=pca.explained_variance_ratio_,
                )

        write_atomically(self.folder / "basis.npz", save)

    def projected(self, pca: PCA, project_rows: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """(n, k) projections of the current texts: stored ones, and project_rows(positions) for the others.
        When any was new, the file is rewritten with the current texts only (texts that left are dropped)."""
        path = self.folder / "projections.parquet"
        k = pca.components_.shape[0]
        out = np.empty((len(self.text_hashes), k))
        missing = np.arange(len(self.text_hashes))
        if path.exists():
            stored = pq.read_table(path)
            index = pd.Index(stored["text_hash"].to_numpy())
            at = index.get_indexer(self.text_hashes) if index.is_unique else np.full(len(out), -1)
            found = at >= 0
            values = np.column_stack([stored[f"pc{i + 1}"].to_numpy() for i in range(k)])
            out[found] = values[at[found]]
            missing = np.flatnonzero(~found)
        log.info("voice PCs: %d of %d texts projected before, %d to project", len(out) - len(missing), len(out),
                 len(missing))  # fmt: skip
        if len(missing):
            out[missing] = project_rows(missing)
            columns = {"text_hash": pa.array(self.text_hashes)} | {
                f"pc{i + 1}": pa.array(out[:, i]) for i in range(k)
            }
            write_atomically(path, lambda tmp: pq.write_table(pa.table(columns), tmp))
        return out
