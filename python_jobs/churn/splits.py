"""Which rows a run learns from: train/test/score parts, the row cap, the training window and the run id."""

from __future__ import annotations

import logging
from dataclasses import asdict

import pandas as pd

from python_jobs.churn import registry
from python_jobs.churn.features import FeatureSpec
from python_jobs.churn.settings import KEYS, LABEL, Settings, training_settings

log = logging.getLogger(__name__)


def split_rows(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The train, test (both labelled rows only) and score rows, each copied once."""
    split, labelled = frame["split"].to_numpy(), frame[LABEL].notna().to_numpy()
    masks = {
        "train": (split == "train") & labelled,
        "test": (split == "test") & labelled,
        "score": split == "score",
    }
    return {s: frame[mask].reset_index(drop=True) for s, mask in masks.items()}


def cap_rows(train: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    """Deterministic hash sample of (customer, snapshot) rows when the training set exceeds max_rows."""
    if len(train) <= max_rows:
        return train
    h = pd.util.hash_pandas_object(train[KEYS].astype(str), index=False, hash_key=f"churn{seed:012d}"[:16])
    u = (h.to_numpy() % 1_000_003) / 1_000_003
    keep = u < max_rows / len(train)
    log.info("training rows capped: %d of %d kept", int(keep.sum()), len(train))
    return train[keep].reset_index(drop=True)


def training_window(parts: dict[str, pd.DataFrame]) -> dict[str, str]:
    """The labelled window a run learns from and is evaluated on. The score snapshot is not part of it: the
    as-of date moves every day, and a new score snapshot alone must not make a new run."""

    def span(df: pd.DataFrame, agg: str) -> str:
        return str(pd.to_datetime(df["snapshot_date"]).agg(agg).date()) if len(df) else ""

    return {
        "train_start": span(parts["train"], "min"),
        "train_end": span(parts["train"], "max"),
        "test_snapshot": span(parts["test"], "max"),
    }


def run_id_for(frame: pd.DataFrame, specs: list[FeatureSpec], settings: Settings) -> tuple[str, str]:
    """(run_id, fingerprint) of the labelled rows the run would learn and be evaluated on (score rows, if the
    frame has any, play no part: the same labelled rows give the same run whatever the as-of date)."""
    labelled = frame[frame["split"].isin(["train", "test"])]
    cols = [c for c in frame.columns if c != "split"] + ["split"]
    fingerprint = registry.data_fingerprint(labelled, cols)
    run_id = registry.stable_hash(
        {
            "fingerprint": fingerprint,
            "window": training_window(split_rows(labelled[["split", LABEL, "snapshot_date"]])),
            "specs": [asdict(s) for s in specs],
            "settings": training_settings(settings),
            "code": registry.code_version(),
        }
    )
    return run_id, fingerprint
