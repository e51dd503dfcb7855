"""The weak sentiment model as a point-in-time, versioned artifact (dbt model enrichment.weak_sentiment_model).

The model learns from star ratings, so it is fitted only on reviews created before the evaluation snapshot
(int_snapshot_spine's 'test' snapshot; the as-of snapshot when nothing is labelled yet): features at the test
snapshot never see a later rating. The artifact is content-addressed (`<model_dir>/weak_sentiment/<version>.pkl`,
version = hash of the training pairs and hyperparameters), so identical inputs give the identical model and
nothing depends on build history. One registry row per build says what was fitted on what; review_tags
loads the model from it.

Naming the version needs every redacted training text, sorted (weak_label.fingerprint): 6 s per build at 1M
customers although the training reviews (all before the evaluation snapshot) rarely change. So a build that
reads the reviews from the warehouse first asks DuckDB for an order-free digest of them (count and summed row
hashes of title, body and rating before the cutoff) and looks it up in `<model_dir>/weak_sentiment/inputs/`;
the text is read only when the digest is new. The digest also names this code, the redaction and the base
model, so a change there reads the texts again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from python_jobs.files import source_digest, write_atomically
from python_jobs.text.calls import is_local
from python_jobs.text.incremental import chunks
from python_jobs.text.joined import joined_text
from python_jobs.text.redact import redact
from python_jobs.text.weak_label import WEAK_VERSION, CanonicalPairs, WeakSentiment, fit_pairs, star_classes
from python_jobs.warehouse import only_row

log = logging.getLogger(__name__)

SCHEMA = pa.schema(
    [
        ("weak_model_version", pa.string()),
        ("status", pa.string()),
        ("fitted_on_until", pa.date32()),
        ("n_rated", pa.int64()),
        ("n_train", pa.int64()),
        ("artifact_path", pa.string()),
    ]
)


def cutoff_date(spine: pd.DataFrame) -> Any:
    """The evaluation snapshot, else the as-of snapshot; None for an empty spine."""
    for split in ("test", "score"):
        dates = pd.to_datetime(spine.loc[spine["split"] == split, "snapshot_date"])
        if len(dates):
            return dates.min().date()
    return None


def _row(
    status: str, until: Any, n_rated: int = 0, model: WeakSentiment | None = None, path: str = ""
) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "weak_model_version": model.version if model is not None else None,
                "status": status,
                "fitted_on_until": until,
                "n_rated": n_rated,
                "n_train": getattr(model, "n_train_", 0),
                "artifact_path": path or None,
            }
        ],
        schema=SCHEMA,
    )


def _inputs_digest(reviews: Any, until: Any, seed: int) -> str | None:
    """Order-free digest of the training reviews of a DuckDB relation (None for an Arrow table)."""
    if isinstance(reviews, pa.Table):
        return None
    from python_jobs.text.public_model import base_version

    hashed = ", ".join(c for c in ("title", "body", "rating") if c in reviews.columns)
    n, total = only_row(
        reviews.filter(f"created_at < timestamp '{until}'").aggregate(
            f"count(*), cast(coalesce(sum(hash({hashed})), 0) as varchar)"
        )
    )
    package = Path(__file__).resolve().parent
    code = source_digest(
        package / name for name in ("weak_registry.py", "weak_label.py", "redact.py", "joined.py")
    )
    key = f"{WEAK_VERSION}|{base_version()}|{code}|{until}|{seed}|{n}|{total}"
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def fit_registry(
    reviews: Any, spine: pd.DataFrame, model_dir: str | Path, tag_model: str, enabled: Any, seed: Any
) -> pa.Table:
    """Fit (or reuse) the weak model on reviews (an Arrow table or a DuckDB relation) created before the cutoff;
    one registry row either way. status: fitted | too_few_ratings | disabled (var weak_sentiment off, or a tag
    model other than the local one, which does not blend) | no_snapshots."""
    enabled = str(enabled).lower() in ("true", "1", "yes") and is_local(str(tag_model))
    seed = int(seed or 0)
    until = cutoff_date(spine)
    if not enabled:
        return _row("disabled", until)
    if until is None:
        return _row("no_snapshots", None)
    folder = Path(model_dir) / "weak_sentiment"
    digest = _inputs_digest(reviews, until, seed)
    known = folder / "inputs" / f"{digest}.json" if digest else None
    if known is not None and known.exists():
        stored = json.loads(known.read_text())
        path = folder / f"{stored['version']}.pkl"
        if path.exists():
            model = WeakSentiment.load(path)
            log.info(
                "weak sentiment model %s: training reviews unchanged, reused (no text read)", model.version
            )
            return _row("fitted", until, int(stored["n_rated"]), model, str(path))
    folder.mkdir(parents=True, exist_ok=True)
    with CanonicalPairs(spill_dir=folder) as pairs:
        for rows in _training_reviews(reviews, until):  # a chunk's texts at a time
            ratings = rows["rating"].cast(pa.float64()).to_numpy(zero_copy_only=False)
            pairs.add([redact(t) for t in joined_text(rows, "title", "body")], star_classes(ratings))
        n_rated = pairs.n
        model = fit_pairs(pairs, folder, seed=seed)
    if model is None:
        log.info("weak sentiment model: %d rated reviews before %s, too few; lexicon alone", n_rated, until)
        return _row("too_few_ratings", until, n_rated)
    path = folder / f"{model.version}.pkl"
    if known is not None:
        record = json.dumps({"version": model.version, "n_rated": n_rated})
        write_atomically(known, lambda tmp: Path(tmp).write_text(record))
    log.info("weak sentiment model %s: %d rated reviews before %s", model.version, n_rated, until)
    return _row("fitted", until, n_rated, model, str(path))


def _training_reviews(reviews: Any, until: Any) -> Iterator[pa.Table]:
    """The title, body and rating of the reviews created before `until`, in chunks (incremental.chunks)."""
    if isinstance(reviews, pa.Table):
        before = pc.less(
            reviews["created_at"], pa.scalar(pd.Timestamp(until).to_pydatetime(), pa.timestamp("us"))
        )
        return iter([reviews.filter(pc.fill_null(before, False))])
    columns = ", ".join(c for c in ("title", "body", "rating") if c in reviews.columns)
    return chunks(reviews.filter(f"created_at < timestamp '{until}'").project(columns))[1]


def load(registry: Any) -> WeakSentiment | None:
    """The model a registry row points at (None unless status is 'fitted')."""
    table = registry if isinstance(registry, pa.Table) else registry.to_arrow_table()
    rows = table.filter(pc.equal(table["status"], "fitted")).to_pylist()
    if not rows:
        return None
    path = Path(rows[0]["artifact_path"])
    if not path.exists():
        raise FileNotFoundError(
            f"weak sentiment model {rows[0]['weak_model_version']} is missing at {path} (registry "
            "enrichment.weak_sentiment_model): rebuild it with `dbt build --select weak_sentiment_model+`"
        )
    return WeakSentiment.load(path)
