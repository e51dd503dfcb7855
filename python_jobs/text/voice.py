"""Point-in-time principal components of each customer's mean text embedding.

For every (customer, snapshot T) with at least one text created before T: the mean of those texts'
embeddings, projected on principal components fitted ONLY on training snapshots (horizon fully observed
and before the evaluation snapshot), so no information from evaluation or scoring periods shapes the axes.
Vectorised: texts are sorted by (customer, time), each text is projected once (the projection is linear, so
mean-then-project == project-then-mean), and per-pair means are one sparse averaging product over the pair's
own texts, so a pair's value never depends on other texts, not even in its rounding.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse
from sklearn.decomposition import PCA

log = logging.getLogger(__name__)


def training_snapshots(spine: pd.DataFrame) -> np.ndarray:
    """Snapshot dates used for fitting: the spine's 'train' split (int_snapshot_spine decides it, once)."""
    snaps = pd.to_datetime(spine["snapshot_date"])
    return snaps[(spine["split"] == "train").to_numpy()].to_numpy(dtype="datetime64[ns]")


def embedding_matrix(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """FixedSizeList<float32, d> (FLOAT[d] from DuckDB), or a List of equal lengths (a PostgreSQL real[]), ->
    (n, d) float32 without a Python loop."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_fixed_size_list(arr.type):
        d = arr.type.list_size
    else:
        lengths = pc.unique(pc.list_value_length(arr)).to_pylist()
        if len(lengths) != 1:
            raise ValueError(
                f"embeddings of different lengths {sorted(lengths)[:5]}: one embedding model per table"
            )
        d = lengths[0]
    return arr.flatten().to_numpy(zero_copy_only=False).astype(np.float32).reshape(-1, d)


def _pairs(
    cust: np.ndarray, ts: np.ndarray, snapshots: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For every customer x snapshot with >= 1 text before it: customer code, snapshot idx, start, end (exclusive)."""
    n_cust = int(cust.max()) + 1
    starts = np.searchsorted(cust, np.arange(n_cust), side="left")
    c_out, s_out, lo_out, hi_out = [], [], [], []
    for s_idx, snap in enumerate(snapshots):
        # texts are sorted by (customer, time), so a customer's texts before T are its first `before` ones
        before = np.bincount(cust[ts < snap], minlength=n_cust)
        has = np.nonzero(before)[0]
        c_out.append(has)
        s_out.append(np.full(len(has), s_idx))
        lo_out.append(starts[has])
        hi_out.append(starts[has] + before[has])
    return tuple(np.concatenate(a) for a in (c_out, s_out, lo_out, hi_out))  # type: ignore[return-value]


def _range_means(emb: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Mean of emb[lo[i]:hi[i]] for each i, as one sparse averaging matrix product."""
    lengths = hi - lo
    rows = np.repeat(np.arange(len(lo)), lengths)
    cols = (
        np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths) + np.repeat(lo, lengths)
    )
    weights = np.repeat(1.0 / lengths, lengths)
    averaging = sparse.csr_matrix((weights, (rows, cols)), shape=(len(lo), emb.shape[0]))
    return np.asarray(averaging @ emb.astype(np.float64))


def embedding_components(
    customer_id: np.ndarray,
    created_at: np.ndarray,
    embeddings: np.ndarray,
    spine: pd.DataFrame,
    n_components: int = 5,
    max_fit_rows: int = 50_000,
    seed: int = 42,
) -> pd.DataFrame:
    """customer_id, snapshot_date, embedded_texts, voice_pc1..voice_pc{k} for pairs with texts before T."""
    cols = ["customer_id", "snapshot_date", "embedded_texts"] + [
        f"voice_pc{i + 1}" for i in range(n_components)
    ]
    empty = pd.DataFrame({c: pd.Series(dtype="float64") for c in cols}).astype(
        {"customer_id": "string", "snapshot_date": "datetime64[ns]", "embedded_texts": "int64"}
    )
    if len(customer_id) == 0 or len(spine) == 0:
        return empty
    codes, uniques = pd.factorize(pd.Series(customer_id).astype(str), sort=True)
    ts = pd.to_datetime(pd.Series(created_at)).to_numpy(dtype="datetime64[ns]")
    order = np.lexsort((ts, codes))
    codes, ts, emb = codes[order], ts[order], np.asarray(embeddings, dtype=np.float32)[order]
    snapshots = np.sort(pd.to_datetime(spine["snapshot_date"]).unique().to_numpy(dtype="datetime64[ns]"))
    cust, snap_idx, lo, hi = _pairs(codes, ts, snapshots)
    if len(cust) == 0:
        return empty

    train_snaps = training_snapshots(spine)
    train_rows = np.nonzero(np.isin(snapshots[snap_idx], train_snaps))[0]
    if len(train_rows) < max(n_components + 1, 10):
        log.warning("too few training rows (%d) to fit voice PCs; leaving them null", len(train_rows))
        pcs = np.full((len(cust), n_components), np.nan)
    else:
        rng = np.random.default_rng(seed)
        fit_rows = rng.choice(train_rows, size=min(max_fit_rows, len(train_rows)), replace=False)
        fit_means = _range_means(emb, lo[fit_rows], hi[fit_rows])
        k = min(n_components, fit_means.shape[1], len(fit_rows) - 1)
        pca = PCA(n_components=k, random_state=seed).fit(fit_means)
        # project texts once, then the mean of each pair's own projected texts. Not a difference of global
        # prefix sums: their rounding would depend on every earlier text, including texts written after T.
        proj = (emb - pca.mean_) @ pca.components_.T
        pcs = np.full((len(cust), n_components), np.nan)
        pcs[:, :k] = _range_means(proj, lo, hi)
        log.info(
            "voice PCs fitted on %d rows from %d training snapshots; explained variance %s",
            len(fit_rows),
            len(train_snaps),
            np.round(pca.explained_variance_ratio_, 3).tolist(),
        )
    out = pd.DataFrame(
        {
            "customer_id": pd.Series(np.asarray(uniques)[cust], dtype="string"),
            "snapshot_date": snapshots[snap_idx],
            "embedded_texts": (hi - lo).astype(np.int64),
        }
    )
    for i in range(n_components):
        out[f"voice_pc{i + 1}"] = pcs[:, i]
    return out


def voice_pcs_from_relations(
    embeddings: pa.Table, spine: pd.DataFrame, get: Callable[[str], Any]
) -> pa.Table:
    """The dbt adapter's work: unpack review_embeddings, read vars, return a typed Arrow table."""

    def var(name: str) -> Any:
        value = get(name)
        return None if value in (None, "", "None", "none", "null") else value

    n = int(var("voice_pc_components") or 5)
    out = embedding_components(
        embeddings["customer_id"].to_numpy(zero_copy_only=False),
        embeddings["created_at"].to_numpy(zero_copy_only=False),
        embedding_matrix(embeddings["embedding"]) if embeddings.num_rows else np.zeros((0, 1), np.float32),
        spine,
        n_components=n,
        seed=int(var("random_seed") or 42),
    )
    schema = pa.schema(
        [("customer_id", pa.string()), ("snapshot_date", pa.date32()), ("embedded_texts", pa.int64())]
        + [(f"voice_pc{i + 1}", pa.float64()) for i in range(n)]
    )
    out["snapshot_date"] = pd.to_datetime(out["snapshot_date"]).dt.date
    return pa.Table.from_pandas(out, schema=schema, preserve_index=False)
