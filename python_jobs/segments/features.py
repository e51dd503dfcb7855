"""Feature matrices for clustering: log-transform skewed counts, impute, standardise, weight blocks equally."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

# Columns whose distribution is long-tailed: clustered on log1p scale so a few whales do not own a cluster.
DEFAULT_LOG_COLUMNS = frozenset(
    {"recency_days", "frequency", "monetary", "avg_order_value", "sessions_30d", "cart_adds_30d"}
)


@dataclass(frozen=True)
class FeatureBlocks:
    """Named groups of columns. Each block gets equal total weight in the fused distance."""

    blocks: Mapping[str, Sequence[str]]
    log_columns: frozenset[str] = field(default_factory=lambda: DEFAULT_LOG_COLUMNS)

    def present(self, frame: pd.DataFrame) -> dict[str, list[str]]:
        """Blocks restricted to columns the frame has; empty blocks dropped."""
        out = {name: [c for c in cols if c in frame.columns] for name, cols in self.blocks.items()}
        return {name: cols for name, cols in out.items() if cols}


def embedding_components(
    vectors: np.ndarray, n_components: int = 5, seed: int = 42, prefix: str = "emb_pc"
) -> pd.DataFrame:
    """Principal components of an (n, d) embedding matrix; rows that are all-NaN get zeros (the mean)."""
    vectors = np.asarray(vectors, dtype=float)
    n, d = vectors.shape
    k = max(0, min(n_components, d, n - 1))
    missing = np.isnan(vectors).all(axis=1)
    out = np.zeros((n, k))
    if k and (~missing).sum() > k:
        pca = PCA(n_components=k, random_state=seed)
        out[~missing] = pca.fit_transform(np.nan_to_num(vectors[~missing]))
    return pd.DataFrame(out, columns=[f"{prefix}{i + 1}" for i in range(k)])


def build_feature_matrix(frame: pd.DataFrame, blocks: FeatureBlocks) -> tuple[np.ndarray, list[str]]:
    """Standardised feature matrix (rows as in `frame`) and its column names.

    Missing values are imputed with the column median (0 when the whole column is missing);
    long-tailed columns are log1p-transformed; every column is standardised (constant columns dropped);
    each block is scaled by 1/sqrt(width) so each block contributes the same variance to distances.
    In NumPy, one column per contiguous row of a (columns, rows) array: the sums run in the same order as
    pandas' column reductions did (identical output), without pandas' block copies (5 s -> 0.6 s for the two
    segmentations of 580k customers).
    """
    parts: list[np.ndarray] = []
    names: list[str] = []
    for cols in blocks.present(frame).values():
        values = np.vstack([_as_float(frame[c]) for c in cols])  # (columns, rows)
        for i, c in enumerate(cols):
            if c in blocks.log_columns:
                values[i] = np.log1p(np.clip(values[i], 0, None))
        missing = np.isnan(values)
        if missing.any():
            with warnings.catch_warnings():  # an all-null column has no median: it becomes 0 below
                warnings.simplefilter("ignore", RuntimeWarning)
                median = np.nanmedian(values, axis=1)
            values = np.where(missing, np.nan_to_num(median, nan=0.0)[:, None], values)
        mean = values.sum(axis=1) / values.shape[1]
        std = np.sqrt(((mean[:, None] - values) ** 2).sum(axis=1) / values.shape[1])
        keep = std > 1e-12
        if not keep.any():
            continue
        z = (values[keep] - mean[keep, None]) / std[keep, None]
        parts.append(z / np.sqrt(keep.sum()))
        names.extend(c for c, k in zip(cols, keep, strict=True) if k)
    if not parts:
        raise ValueError("No usable feature columns for clustering")
    return np.vstack(parts).T, names


def _as_float(values: pd.Series) -> np.ndarray:
    """A column as float64, nulls (and text that is no number) as NaN."""
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
