"""Score a tagger against labelled text: the synthetic world's truth_texts and the real dev sets.

Every set is a frame (text_id, text, label[, rating, topics, churn_intent]). `evaluate` tags the texts with
any `llm` model through the normal pipeline (cache included) and returns long rows
(dataset, tagger, metric, value, n), with a naive baseline beside the tagger: the star rating where the
set has one that is not itself the label, else the majority class.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score
from sklearn.preprocessing import MultiLabelBinarizer

from python_jobs.text.runner import TagSettings, tag_texts
from python_jobs.text.schema import LABELS, TOPICS

log = logging.getLogger(__name__)

STAR_LABELS = {1: "negative", 2: "negative", 3: "neutral", 4: "positive", 5: "positive"}


def _join(*cols: pd.Series) -> pd.Series:
    out = cols[0].fillna("").astype(str)
    for col in cols[1:]:
        out = out + "\n" + col.fillna("").astype(str)
    return out.str.strip()


def synthetic_sets(raw_path: Path) -> dict[str, pd.DataFrame]:
    """Reviews and tickets of a generated world joined to truth_texts (deduplicated ids, empty text dropped)."""
    truth = pd.read_parquet(raw_path / "truth_texts.parquet")
    truth["source_id"] = truth["source_id"].astype(str)
    sets: dict[str, pd.DataFrame] = {}
    for source, table, head in (("review", "reviews", "title"), ("ticket", "support_tickets", "subject")):
        path = raw_path / f"{table}.parquet"
        if not path.exists():
            continue
        rows = pd.read_parquet(path)
        rows["text_id"] = rows[f"{source}_id"].astype(str)
        rows = rows.drop_duplicates("text_id")
        rows["text"] = _join(rows[head], rows["body"])
        t = truth[truth["source"] == source].drop_duplicates("source_id")
        df = rows.merge(t, left_on="text_id", right_on="source_id", how="inner")
        df = df[df["text"].str.len() > 0]
        frame = pd.DataFrame(
            {
                "text_id": df["text_id"],
                "text": df["text"],
                "label": df["sentiment_label"].astype(str),
                "topics": df["topics"]
                .fillna("")
                .astype(str)
                .str.split("|")
                .map(lambda ts: [t for t in ts if t]),
                "churn_intent": df["churn_intent"].astype(bool),
            }
        )
        if source == "review" and "rating" in df:
            frame["rating"] = pd.to_numeric(df["rating"], errors="coerce")
            frame["weak_rating"] = frame["rating"]
        sets[f"synthetic_{source}s"] = frame.reset_index(drop=True)
    return sets


def waimai_set(path: Path) -> pd.DataFrame:
    """Chinese food-delivery reviews, human labels 1 = positive, 0 = negative (binary), deduplicated on text."""
    df = pd.read_csv(path).dropna(subset=["review"]).drop_duplicates("review")
    return pd.DataFrame(
        {
            "text_id": "waimai-" + df.index.astype(str),
            "text": df["review"].astype(str),
            "label": np.where(df["label"].astype(int) == 1, "positive", "negative"),
        }
    ).reset_index(drop=True)


def amazon_set(path: Path) -> pd.DataFrame:
    """Amazon 5-core reviews; stars as proxy labels (1-2 negative, 3 neutral, 4-5 positive).

    Duplicates are dropped on the text itself: beyond the variant copies (same reviewer, item, time, text)
    the same text recurs across item variants, and copies in both training and test folds would flatter
    any fitted model. Only reviewText is tagged (the summary is often "Five Stars", which leaks the label).
    """
    df = pd.read_json(path, lines=True)
    df = df.dropna(subset=["reviewText"])
    df = df[df["reviewText"].str.strip().str.len() > 0]
    df = df.assign(reviewText=df["reviewText"].str.strip()).drop_duplicates("reviewText")
    return pd.DataFrame(
        {
            "text_id": path.stem + "-" + df.index.astype(str),
            "text": df["reviewText"].astype(str),
            "label": df["overall"].astype(int).map(STAR_LABELS),
            # stars for fitting the weak-label model (cross-fitted); not a baseline input: they are the label
            "weak_rating": df["overall"].astype(float),
        }
    ).reset_index(drop=True)


def real_sets(dev_dir: Path) -> dict[str, pd.DataFrame]:
    sets: dict[str, pd.DataFrame] = {}
    if (dev_dir / "waimai_10k_zh.csv").exists():
        sets["waimai_zh"] = waimai_set(dev_dir / "waimai_10k_zh.csv")
    for name in ("fashion", "beauty"):
        path = dev_dir / f"amazon_{name}_5core_en.jsonl"
        if path.exists():
            sets[f"amazon_{name}_en"] = amazon_set(path)
    return sets


def _sentiment_metrics(truth: pd.Series, pred: pd.Series) -> dict[str, float]:
    labels = [lab for lab in LABELS if lab in set(truth)]
    return {
        "sentiment_accuracy": float(accuracy_score(truth, pred)),
        "sentiment_macro_f1": float(f1_score(truth, pred, labels=labels, average="macro", zero_division=0)),
    }


def score(df: pd.DataFrame, pred: pd.DataFrame) -> dict[str, float]:
    """Metrics of predictions `pred` (sentiment_label, sentiment[, topics, churn_intent]) against `df`."""
    out = _sentiment_metrics(df["label"], pred["sentiment_label"])
    if set(df["label"]) <= {"negative", "positive"} and "sentiment" in pred:
        # binary truth: also score the sign of the score, so "neutral" is not an automatic error
        sign = np.where(pred["sentiment"].fillna(0) >= 0, "positive", "negative")
        out["sentiment_accuracy_by_sign"] = float(accuracy_score(df["label"], sign))
    if "topics" in df and "topics" in pred:
        mlb = MultiLabelBinarizer(classes=list(TOPICS))
        y_true = mlb.fit_transform(df["topics"])
        y_pred = mlb.transform(pred["topics"].map(lambda t: list(t) if t is not None else []))
        out["topics_micro_f1"] = float(f1_score(y_true, y_pred, average="micro", zero_division=0))
        out["topics_macro_f1"] = float(f1_score(y_true, y_pred, average="macro", zero_division=0))
    if "churn_intent" in df and "churn_intent" in pred:
        t, p = df["churn_intent"].astype(bool), pred["churn_intent"].fillna(False).astype(bool)
        out["churn_intent_precision"] = float(precision_score(t, p, zero_division=0))
        out["churn_intent_recall"] = float(recall_score(t, p, zero_division=0))
        out["churn_intent_f1"] = float(f1_score(t, p, zero_division=0))
    return out


def baseline(df: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """Star rating alone where the set has one (and it is not the label itself); majority class otherwise."""
    majority = df["label"].mode().iloc[0]
    if "rating" in df and df["rating"].notna().any():
        name = "baseline_star_rating"
        labels = df["rating"].round().map(STAR_LABELS).fillna(majority)
        sentiment = labels.map({"negative": -1.0, "neutral": 0.0, "positive": 1.0})
    else:
        name = "baseline_majority"
        labels = pd.Series([majority] * len(df), index=df.index)
        sentiment = labels.map({"negative": -1.0, "neutral": 0.0, "positive": 1.0})
    pred = pd.DataFrame({"sentiment_label": labels, "sentiment": sentiment})
    if "topics" in df:
        top = pd.Series([t for ts in df["topics"] for t in ts]).mode()
        pred["topics"] = [[top.iloc[0]] if len(top) else [] for _ in range(len(df))]
    if "churn_intent" in df:
        pred["churn_intent"] = bool(df["churn_intent"].mean() > 0.5)
    return name, pred


def weak_predictions(df: pd.DataFrame, settings: TagSettings, fit_on: pd.DataFrame | None, folds: int = 5):
    """Tags from the local tagger blended with a weak-label model that never saw the scored text:
    cross-fitted on the set's own star ratings (`weak_rating`), or fitted on another set (`fit_on`)."""
    import pyarrow as pa

    from python_jobs.text.llm_plugin import LocalTagger
    from python_jobs.text.local_tagger import tag_text
    from python_jobs.text.weak_label import WeakSentiment, enough_ratings

    def fit(rows: pd.DataFrame) -> WeakSentiment:
        texts = rows["text"].tolist()
        lex = np.array([tag_text(t)["sentiment"] for t in texts])
        return WeakSentiment().fit(texts, rows["weak_rating"].to_numpy(float), lex)

    def tag(rows: pd.DataFrame, weak: WeakSentiment) -> pa.Table:
        return tag_texts(
            rows["text_id"].tolist(), rows["text"].tolist(), settings, model=LocalTagger(weak=weak)
        )[0]

    if fit_on is not None:
        if not enough_ratings(fit_on["weak_rating"].to_numpy(float)):
            return None
        return tag(df, fit(fit_on)).to_pandas()
    if "weak_rating" not in df or not enough_ratings(df["weak_rating"].to_numpy(float)):
        return None
    fold = np.random.default_rng(0).permutation(len(df)) % folds
    parts = []
    for k in range(folds):
        part = tag(df[fold == k], fit(df[fold != k])).to_pandas()
        part.index = np.nonzero(fold == k)[0]
        parts.append(part)
    return pd.concat(parts).sort_index()


def evaluate(sets: dict[str, pd.DataFrame], settings: TagSettings, weak: bool = False) -> pd.DataFrame:
    """Long table: dataset, tagger, metric, value, n (texts scored). With `weak` (local tagger only), the
    blended tagger is scored too, cross-fitted, on every set with star ratings (tickets: fitted on reviews)."""
    rows = []
    for name, df in sets.items():
        tags, tally = tag_texts(df["text_id"].tolist(), df["text"].tolist(), settings)
        pred = tags.to_pandas()
        variants = [(settings.model_id, pred)]
        if weak:
            fit_on = sets.get("synthetic_reviews") if name == "synthetic_tickets" else None
            blended = weak_predictions(df, settings, fit_on)
            if blended is not None:
                variants.append((f"{settings.model_id}+weak", blended))
        ok = (pred["tag_status"] == "tagged").to_numpy()
        for _, p in variants[1:]:
            ok &= (p["tag_status"] == "tagged").to_numpy()
        if not ok.all():
            log.warning(
                "%s: %d of %d texts not tagged (%s); scored on the tagged ones",
                name,
                (~ok).sum(),
                len(ok),
                tally.line(),
            )
        scored_df = df[ok].reset_index(drop=True)
        base_name, base_pred = baseline(scored_df)
        for tagger, p in [*variants, (base_name, base_pred)]:
            p = p if tagger == base_name else p[ok].reset_index(drop=True)
            for metric, value in score(scored_df, p).items():
                rows.append(
                    {"dataset": name, "tagger": tagger, "metric": metric, "value": value, "n": int(ok.sum())}
                )
    return pd.DataFrame(rows, columns=["dataset", "tagger", "metric", "value", "n"])


def comparison(results: pd.DataFrame) -> pd.DataFrame:
    """Wide view: one row per dataset and metric, each tagger's value beside the baseline's."""
    if results.empty:
        return results
    role = np.where(
        results["tagger"].str.startswith("baseline_"),
        "baseline",
        np.where(results["tagger"].str.endswith("+weak"), "tagger+weak", "tagger"),
    )
    wide = results.assign(role=role).pivot_table(
        index=["dataset", "metric"], columns="role", values="value", aggfunc="first"
    )
    wide = wide.reset_index()
    wide.columns.name = None
    wide["tagger_beats_baseline"] = wide["tagger"] > wide["baseline"]
    if "tagger+weak" in wide:
        wide["weak_beats_baseline"] = (wide["tagger+weak"] > wide["baseline"]).where(
            wide["tagger+weak"].notna()
        )
    return wide
