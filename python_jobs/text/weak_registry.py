"""The weak sentiment model as a point-in-time, versioned artifact (dbt model enrichment.weak_sentiment_model).

The model learns from star ratings, so it is fitted only on reviews created before the evaluation snapshot
(int_snapshot_spine's 'test' snapshot; the as-of snapshot when nothing is labelled yet): features at the test
snapshot never see a later rating. The artifact is content-addressed (`<model_dir>/weak_sentiment/<version>.pkl`,
version = hash of the training pairs and hyperparameters), so identical inputs give the identical model and
nothing depends on build history. One registry row per build says what was fitted on what; review_tags
loads the model from it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from python_jobs.text.calls import is_local
from python_jobs.text.joined import joined_text
from python_jobs.text.redact import redact
from python_jobs.text.weak_label import WeakSentiment, fit_or_load, star_classes

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


def fit_registry(
    reviews: pa.Table, spine: pd.DataFrame, model_dir: str | Path, tag_model: str, enabled: Any, seed: Any
) -> pa.Table:
    """Fit (or reuse) the weak model on reviews created before the cutoff; one registry row either way.
    status: fitted | too_few_ratings | disabled (var weak_sentiment off, or a tag model other than the local
    one, which does not blend) | no_snapshots."""
    enabled = str(enabled).lower() in ("true", "1", "yes") and is_local(str(tag_model))
    seed = int(seed or 0)
    until = cutoff_date(spine)
    if not enabled:
        return _row("disabled", until)
    if until is None:
        return _row("no_snapshots", None)
    before = pc.less(
        reviews["created_at"], pa.scalar(pd.Timestamp(until).to_pydatetime(), pa.timestamp("us"))
    )
    rows = reviews.filter(pc.fill_null(before, False))
    ratings = rows["rating"].cast(pa.float64()).to_numpy(zero_copy_only=False)
    texts = [redact(t) for t in joined_text(rows, "title", "body")]
    n_rated = int((star_classes(ratings) >= 0).sum())
    folder = Path(model_dir) / "weak_sentiment"
    model = fit_or_load(texts, ratings, folder, seed=seed)
    if model is None:
        log.info("weak sentiment model: %d rated reviews before %s, too few; lexicon alone", n_rated, until)
        return _row("too_few_ratings", until, n_rated)
    path = folder / f"{model.version}.pkl"
    log.info("weak sentiment model %s: %d rated reviews before %s", model.version, n_rated, until)
    return _row("fitted", until, n_rated, model, str(path))


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
