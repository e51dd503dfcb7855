"""Point-in-time principal components of each customer's mean text embedding.

For every (customer, snapshot T) with at least one text created before T: the mean of those texts'
embeddings, projected on principal components fitted ONLY on training snapshots (horizon fully observed
and before the evaluation snapshot), so no information from evaluation or scoring periods shapes the axes.
Vectorised: texts are sorted by (customer, time, id), each text is projected once (the projection is linear, so
mean-then-project == project-then-mean), and per-pair means are one sparse product over the pair's own texts in
that order, so a pair's value never depends on other texts, not even in its rounding.

Incremental by snapshot: each snapshot's rows carry `inputs_fingerprint`, a hash of the texts created before T
(their ids, customers, times, content hashes and embedding models) and of the basis (the training snapshots'
texts, the settings and this code). A build computes only the snapshots whose fingerprint the table does not
hold, and reads no embedding at all when there are none.

Memory: the embeddings (1.3M x 384 float32 = 2 GB at 1M customers) are never held whole. They are streamed from
the warehouse twice in Arrow batches (StreamedEmbeddings): once to gather the rows the basis is fitted on, once
to project every row on it; only the (n, k) projections stay. Means are taken in blocks of pairs (RANGE_VALUES),
and keys, customer ids and the output stay Arrow strings, never a Python object per row: at 1M customers (6.2M
pairs) this node's own peak fell from 2.5 to 1.7 GB, and its time from 19.5 to 11.1 s.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse
from sklearn.decomposition import PCA
from threadpoolctl import threadpool_limits

from python_jobs.text.voice_cache import VoiceCache
from python_jobs.warehouse import previous_table

log = logging.getLogger(__name__)

# what identifies a text's embedding: the embedding is a function of the content and the model
TEXT_KEY_COLUMNS = ("review_id", "customer_id", "created_at", "content_hash", "embedding_model")
PROJECTION_ROWS = 65_536  # rows projected per block: bounds the float64 copy of the embeddings
STREAM_ROWS = 65_536  # rows per Arrow batch streamed from the warehouse
RANGE_VALUES = 1 << 22  # float64 values averaged per block (32 MiB): bounds the copy of the rows averaged
FILTERED_READ_MAX = 50_000  # up to this many texts to project are read by id; more, in one pass over all
STRING = pd.StringDtype("pyarrow")  # customer_id: Arrow strings, no Python object per row
CODE_VERSION = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


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
    return arr.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False).reshape(-1, d)


def _strings(values: Any) -> pa.Array | pa.ChunkedArray:
    """Arrow strings of an Arrow or NumPy array: sorted and compared without a Python object per value."""
    arrow = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(np.asarray(values))
    return pc.cast(arrow, pa.string())


@dataclass(frozen=True)
class Texts:
    """The embedded texts in canonical order (customer, created_at, text id): customer codes and times."""

    codes: np.ndarray
    customers: pa.Array  # code -> customer_id
    ts: np.ndarray  # datetime64[ns]
    order: np.ndarray  # position in canonical order -> row of the input

    @classmethod
    def sort(cls, customer_id: Any, created_at: np.ndarray, text_id: Any = None) -> Texts:
        """customer_id and text_id: Arrow or NumPy arrays, ordered as strings (code points)."""
        ts = pd.to_datetime(pd.Series(created_at)).to_numpy(dtype="datetime64[ns]")
        keys = {"customer": _strings(customer_id), "ts": pa.array(ts)}
        if text_id is not None:  # ties in time are broken by id, so the order never depends on row order
            keys["id"] = _strings(text_id)
        order = pc.sort_indices(pa.table(keys), sort_keys=[(k, "ascending") for k in keys]).to_numpy()
        customer = keys["customer"].take(order)
        starts = np.ones(len(order), bool)  # where a customer's run begins (codes follow the sorted strings)
        changed = pc.fill_null(pc.not_equal(customer[1:], customer[:-1]), True)
        starts[1:] = changed.to_numpy(zero_copy_only=False)
        customers = customer.filter(pa.array(starts))
        if isinstance(customers, pa.ChunkedArray):
            customers = customers.combine_chunks()
        return cls(np.cumsum(starts) - 1, customers, ts[order], order)


def _pairs(texts: Texts, snapshots: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For every customer x snapshot with >= 1 text before it: customer code, snapshot idx, start, end (exclusive)."""
    cust, ts = texts.codes, texts.ts
    n_cust = int(cust.max()) + 1 if len(cust) else 0
    starts = np.searchsorted(cust, np.arange(n_cust), side="left")
    c_out, s_out, lo_out, hi_out = ([np.zeros(0, np.int64)] for _ in range(4))
    for s_idx, snap in enumerate(snapshots):
        # texts are sorted by (customer, time), so a customer's texts before T are its first `before` ones
        before = np.bincount(cust[ts < snap], minlength=n_cust)
        has = np.nonzero(before)[0]
        c_out.append(has)
        s_out.append(np.full(len(has), s_idx))
        lo_out.append(starts[has])
        hi_out.append(starts[has] + before[has])
    return tuple(np.concatenate(a) for a in (c_out, s_out, lo_out, hi_out))  # type: ignore[return-value]


def _positions(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """lo[0]..hi[0]-1, lo[1]..hi[1]-1, ... in one array."""
    lengths = hi - lo
    return np.repeat(lo - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())


def _range_means(
    take: Callable[[np.ndarray], np.ndarray], lo: np.ndarray, hi: np.ndarray, rows_of: np.ndarray
) -> np.ndarray:
    """Mean of the rows take(rows_of[lo[i]:hi[i]]) for each i: a sparse product that sums each range in order,
    then divides. Consecutive ranges are averaged in blocks of about RANGE_VALUES float64 values (a row's sum
    never depends on the block: each output row sums only its own range); within a block, only the rows in
    some range are taken, once each."""
    width = take(rows_of[:0]).shape[1]
    per_block = max(1, RANGE_VALUES // width)  # rows
    ends = np.cumsum(hi - lo)
    out = np.empty((len(lo), width))
    start = 0
    while start < len(lo):
        done = ends[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(ends, done + per_block, side="right")))
        out[start:stop] = _block_means(take, lo[start:stop], hi[start:stop], rows_of)
        start = stop
    return out


def _block_means(
    take: Callable[[np.ndarray], np.ndarray], lo: np.ndarray, hi: np.ndarray, rows_of: np.ndarray
) -> np.ndarray:
    lengths = hi - lo
    used, cols = np.unique(_positions(lo, hi), return_inverse=True)
    rows = np.repeat(np.arange(len(lo)), lengths)
    summing = sparse.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(lo), len(used)))
    return np.asarray(summing @ take(rows_of[used]).astype(np.float64)) / lengths[:, None]


def _project(block: np.ndarray, pca: PCA) -> np.ndarray:
    """(block - mean) @ components.T, row by row: einsum's own loops, so a row's value does not depend on which
    rows share its block (BLAS may round differently by block shape, and streamed blocks vary)."""
    offset = pca.mean_ @ pca.components_.T
    return np.einsum("ij,kj->ik", block.astype(np.float64), pca.components_, optimize=False) - offset


class InMemoryEmbeddings:
    """Embeddings held as an (n, d) array, in input row order."""

    def __init__(self, matrix: np.ndarray) -> None:
        self.matrix = np.asarray(matrix, dtype=np.float32)

    def rows(self, positions: np.ndarray) -> np.ndarray:
        return self.matrix[positions]

    def projected(self, pca: PCA) -> np.ndarray:
        return self.projected_rows(pca, np.arange(len(self.matrix)))

    def projected_rows(self, pca: PCA, positions: np.ndarray) -> np.ndarray:
        out = np.empty((len(positions), pca.components_.shape[0]))
        for start in range(0, len(positions), PROJECTION_ROWS):
            block = self.matrix[positions[start : start + PROJECTION_ROWS]]
            out[start : start + PROJECTION_ROWS] = _project(block, pca)
        return out


class StreamedEmbeddings:
    """Embeddings read from a relation in Arrow batches, each pass to its end; rows are matched to the input rows
    (`ids`, in input order) by the unique `id_column`, since a scan's row order is not fixed."""

    def __init__(self, relation: Any, id_column: str, ids: np.ndarray) -> None:
        self.relation, self.id_column = relation, id_column
        self.index = pd.Index(ids)

    def _batches(self, ids: pd.Index | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        relation = self.relation
        if ids is not None:  # only these rows: an IN list of literals (a few thousand on a nightly build)
            listed = ", ".join("'" + str(i).replace("'", "''") + "'" for i in ids)
            relation = relation.filter(f"cast({self.id_column} as varchar) in ({listed or 'null'})")
        reader = relation.project(f"{self.id_column}, embedding").to_arrow_reader(STREAM_ROWS)
        try:  # an unfinished read would keep its query open, and a later checkpoint would wait for it
            for batch in reader:
                positions = self.index.get_indexer(batch.column(0).to_numpy(zero_copy_only=False))
                if (positions < 0).any():
                    raise ValueError(
                        f"embeddings changed while read: unknown {self.id_column} in a later read"
                    )
                yield positions, embedding_matrix(batch.column(1))
        finally:
            reader.close()

    def rows(self, positions: np.ndarray) -> np.ndarray:
        slot = np.full(len(self.index), -1)
        slot[positions] = np.arange(len(positions))
        out: np.ndarray | None = None
        for where, block in self._batches():
            out = np.empty((len(positions), block.shape[1]), np.float32) if out is None else out
            keep = slot[where] >= 0
            out[slot[where][keep]] = block[keep]
        return out if out is not None else np.zeros((0, 1), np.float32)

    def projected(self, pca: PCA) -> np.ndarray:
        out = np.empty((len(self.index), pca.components_.shape[0]))
        for where, block in self._batches():
            out[where] = _project(block, pca)
        return out

    def projected_rows(self, pca: PCA, positions: np.ndarray) -> np.ndarray:
        """Projections of the rows at `positions` only: read by id when they are few, else in one pass."""
        slot = np.full(len(self.index), -1)
        slot[positions] = np.arange(len(positions))
        out = np.empty((len(positions), pca.components_.shape[0]))
        ids = self.index[positions] if len(positions) <= FILTERED_READ_MAX else None
        for where, block in self._batches(ids):
            keep = slot[where] >= 0
            out[slot[where][keep]] = _project(block[keep], pca)
        return out


def output_columns(n_components: int) -> list[str]:
    return ["customer_id", "snapshot_date", "embedded_texts"] + [
        f"voice_pc{i + 1}" for i in range(n_components)
    ]


def fit_basis(
    texts: Texts,
    emb: InMemoryEmbeddings | StreamedEmbeddings,
    train_snaps: np.ndarray,
    n_components: int,
    max_fit_rows: int,
    seed: int,
) -> PCA | None:
    """PCA of the mean embeddings of a sample of the training snapshots' (customer, T) pairs; None when too few."""
    _, _, lo, hi = _pairs(texts, np.sort(train_snaps))
    if len(lo) < max(n_components + 1, 10):
        log.warning("too few training rows (%d) to fit voice PCs; leaving them null", len(lo))
        return None
    rng = np.random.default_rng(seed)
    fit_rows = np.sort(rng.choice(len(lo), size=min(max_fit_rows, len(lo)), replace=False))
    lo, hi = lo[fit_rows], hi[fit_rows]
    needed = np.unique(texts.order[_positions(lo, hi)])  # input rows, read in one pass as float32
    gathered = emb.rows(needed)
    fit_means = _range_means(lambda rows: gathered[np.searchsorted(needed, rows)], lo, hi, texts.order)
    k = min(n_components, fit_means.shape[1], len(fit_rows) - 1)
    # One BLAS thread: a multi-threaded SVD rounds differently with the thread count (1e-15 in the components
    # between a dbt-duckdb build and a Postgres/Spark steps run), which moved every PC and the churn run's id.
    with threadpool_limits(limits=1):
        pca = PCA(n_components=k, random_state=seed).fit(fit_means)
    log.info(
        "voice PCs fitted on %d rows from %d training snapshots; explained variance %s",
        len(fit_rows),
        len(train_snaps),
        np.round(pca.explained_variance_ratio_, 3).tolist(),
    )
    return pca


def embedding_components(
    customer_id: np.ndarray,
    created_at: np.ndarray,
    embeddings: np.ndarray | InMemoryEmbeddings | StreamedEmbeddings,
    spine: pd.DataFrame,
    n_components: int = 5,
    max_fit_rows: int = 50_000,
    seed: int = 42,
    text_id: np.ndarray | None = None,
    snapshots: np.ndarray | None = None,
    cache: VoiceCache | None = None,
) -> pd.DataFrame:
    """customer_id, snapshot_date, embedded_texts, voice_pc1..voice_pc{k} for pairs with texts before T, at the
    given `snapshots` (default: every spine snapshot). The basis is the same whichever snapshots are asked for.
    `cache` (the basis and projections of earlier builds, same basis_hash) replaces the fit and the projection
    of every text already projected; the values are the same."""
    cols = output_columns(n_components)
    empty = pd.DataFrame({c: pd.Series(dtype="float64") for c in cols}).astype(
        {"customer_id": STRING, "snapshot_date": "datetime64[ns]", "embedded_texts": "int64"}
    )
    if snapshots is None:
        snapshots = pd.to_datetime(spine["snapshot_date"]).to_numpy(dtype="datetime64[ns]")
    snapshots = np.sort(np.unique(np.asarray(snapshots, dtype="datetime64[ns]")))
    if len(customer_id) == 0 or len(spine) == 0 or len(snapshots) == 0:
        return empty
    texts = Texts.sort(customer_id, created_at, text_id)
    # kept in input order: texts.order maps canonical positions to its rows
    emb = embeddings if hasattr(embeddings, "projected") else InMemoryEmbeddings(embeddings)
    cust, snap_idx, lo, hi = _pairs(texts, snapshots)
    if len(cust) == 0:
        return empty
    pca = cache.basis() if cache is not None else None
    if pca is None:
        pca = fit_basis(texts, emb, training_snapshots(spine), n_components, max_fit_rows, seed)
        if pca is not None and cache is not None:
            cache.store_basis(pca)
    pcs = np.full((len(cust), n_components), np.nan)
    if pca is not None:
        # project texts once, then the mean of each pair's own projected texts. Not a difference of global
        # prefix sums: their rounding would depend on every earlier text, including texts written after T.
        if cache is not None:
            projected = cache.projected(pca, lambda rows: emb.projected_rows(pca, rows))
        else:
            projected = emb.projected(pca)
        pcs[:, : pca.n_components_] = _range_means(projected.__getitem__, lo, hi, texts.order)
    out = pd.DataFrame(
        {
            "customer_id": pd.Series(pd.arrays.ArrowStringArray(texts.customers.take(cust))),
            "snapshot_date": snapshots[snap_idx],
            "embedded_texts": (hi - lo).astype(np.int64),
        }
    )
    for i in range(n_components):
        out[f"voice_pc{i + 1}"] = pcs[:, i]
    return out


def text_hashes(keys: pa.Table) -> np.ndarray:
    """uint64 per text, in input order: DuckDB's hash of its TEXT_KEY_COLUMNS (the strings never become Python
    objects; pandas' hash of the same columns cost 8 s for 1.3M texts, most of it converting them)."""
    present = [c for c in TEXT_KEY_COLUMNS if c in keys.column_names]
    with duckdb.connect() as con:
        hashed = con.from_arrow(keys.select(present)).project(f"hash({', '.join(present)})").to_arrow_table()
    return hashed.column(0).to_numpy()


def fingerprints_and_basis(
    keys: pa.Table, spine: pd.DataFrame, settings: dict[str, Any], hashes: np.ndarray | None = None
) -> tuple[pd.Series, str]:
    """snapshot_date -> fingerprint of what its rows are computed from: the texts created before T (the
    TEXT_KEY_COLUMNS the table has; `hashes` = text_hashes(keys)) and the basis (the training snapshots' texts,
    the settings, this code); and basis_hash, the fingerprint of the basis alone."""
    hashes = text_hashes(keys) if hashes is None else hashes
    ts = pd.to_datetime(keys["created_at"].to_pandas()).to_numpy("datetime64[ns]")
    order = np.argsort(ts, kind="stable")
    cumulative = np.concatenate([[np.uint64(0)], np.cumsum(hashes[order], dtype=np.uint64)])  # wraps mod 2^64
    snaps = pd.to_datetime(spine["snapshot_date"]).to_numpy("datetime64[ns]")
    before = np.searchsorted(ts[order], snaps, side="left")
    texts = {str(s)[:10]: f"{n}:{cumulative[n]}" for s, n in zip(snaps, before, strict=True)}
    train = sorted(str(s)[:10] for s in training_snapshots(spine))
    basis = {"train": [[d, texts[d]] for d in train], "settings": settings, "code": CODE_VERSION}
    basis_hash = hashlib.sha256(repr(sorted(basis.items())).encode()).hexdigest()[:16]
    fingerprints = pd.Series(
        {d: hashlib.sha256(f"{basis_hash}|{d}|{t}".encode()).hexdigest()[:32] for d, t in texts.items()},
        name="inputs_fingerprint",
    )
    return fingerprints, basis_hash


def snapshot_fingerprints(keys: pa.Table, spine: pd.DataFrame, settings: dict[str, Any]) -> pd.Series:
    """snapshot_date -> inputs_fingerprint (fingerprints_and_basis)."""
    return fingerprints_and_basis(keys, spine, settings)[0]


def built_fingerprints(session: Any, this: Any) -> set[str] | None:
    """The inputs_fingerprints the last build's table holds (None: no table, or one without fingerprints)."""
    relation = previous_table(session, this)
    if relation is None or "inputs_fingerprint" not in relation.columns:
        return None
    return {row[0] for row in relation.project("inputs_fingerprint").distinct().fetchall()}


def outdated_rows(rows: pa.Table, current: list[str]) -> str:
    """SQL condition on the table: rows whose fingerprint is not current, of snapshots `rows` does not replace."""
    condition = "inputs_fingerprint not in ({})".format(", ".join(f"'{f}'" for f in current) or "''")
    replaced = ", ".join(f"date '{d}'" for d in pc.unique(rows["snapshot_date"]).to_pylist())
    return f"{condition} and snapshot_date not in ({replaced})" if replaced else condition


def voice_pcs_from_relations(
    embeddings: Any, spine: pd.DataFrame, get: Callable[[str], Any], built: set[str] | None = None
) -> tuple[pa.Table, list[str]]:
    """The dbt adapter's work: the rows of the snapshots whose fingerprint is not in `built` (every snapshot when
    None), as a typed Arrow table, and the current fingerprints (rows with any other are stale)."""

    def var(name: str) -> Any:
        value = get(name)
        return None if value in (None, "", "None", "none", "null") else value

    n = int(var("voice_pc_components") or 5)
    seed = int(var("random_seed") or 42)
    keys = [c for c in TEXT_KEY_COLUMNS if c in embeddings.columns]
    table = embeddings.project(", ".join(keys)).to_arrow_table()  # nothing pending: no embedding is read
    hashes = text_hashes(table)
    fingerprints, basis_hash = fingerprints_and_basis(table, spine, {"n_components": n, "seed": seed}, hashes)
    model_dir = var("model_dir")
    cache = VoiceCache(model_dir, basis_hash, hashes) if model_dir and "review_id" in keys else None
    pending = fingerprints[~fingerprints.isin(built or set())]
    log.info("voice PCs: %d of %d snapshots to compute", len(pending), len(fingerprints))
    emb: Any = np.zeros((0, 1), np.float32)
    if (
        len(pending)
        and "review_id" in keys
        and pc.count_distinct(table["review_id"]).as_py() == table.num_rows
    ):
        emb = StreamedEmbeddings(embeddings, "review_id", table["review_id"].to_numpy(zero_copy_only=False))
    elif len(pending):  # no unique id to match rows by: keys and embeddings in one read
        table = embeddings.project(", ".join([*keys, "embedding"])).to_arrow_table()
        emb = embedding_matrix(table["embedding"])
    out = embedding_components(
        table["customer_id"],
        table["created_at"].to_numpy(zero_copy_only=False),
        emb,
        spine,
        n_components=n,
        seed=seed,
        text_id=table["review_id"] if "review_id" in keys else None,
        snapshots=pd.to_datetime(pending.index).to_numpy("datetime64[ns]"),
        cache=cache,
    )
    # Arrow columns straight from the arrays: a Python object per row cost ~1 GB at 1M customers
    dates = out["snapshot_date"].to_numpy("datetime64[D]")
    snapshots = pd.Index(pd.to_datetime(fingerprints.index).to_numpy("datetime64[D]"))
    snapshot_of_row = snapshots.get_indexer(dates)
    schema = pa.schema(
        [("customer_id", pa.string()), ("snapshot_date", pa.date32()), ("embedded_texts", pa.int64())]
        + [(f"voice_pc{i + 1}", pa.float64()) for i in range(n)]
        + [("inputs_fingerprint", pa.string())]
    )
    columns = [pa.array(out["customer_id"].array), pa.array(dates)]
    columns += [pa.array(out[c].to_numpy()) for c in out.columns[2:]]
    columns.append(pa.array(fingerprints.to_numpy(dtype=str)).take(snapshot_of_row))
    return pa.Table.from_arrays(columns, schema=schema), list(fingerprints)
