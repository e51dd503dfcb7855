"""Score any `llm` tagger against labelled text, per language and per field, with classic baselines beside it.

Every set is a frame (text_id, text, label[, language, topics, churn_intent, complaint, rating, weak_rating]).
`evaluate` tags the texts through the normal pipeline (redaction, batches, cache, validation) and returns one
row per (dataset, language, field, tagger) with accuracy, macro-F1, coverage, n and texts/s:
- sentiment: a neutral answer counts as wrong where the truth has no neutral class; coverage is the share of
  texts given a positive or negative label;
- topics: accuracy is the exact topic set, macro-F1 over the topics the truth uses; coverage is the share of
  texts given a topic other than `other`;
- churn_intent: accuracy and macro-F1 of the flag; coverage is the share of texts tagged at all;
- complaint (Portuguese-style satisfied / delivery problem / quality problem): derived from sentiment and
  topics (`complaint_class`).
Beside the tagger: the classic baselines (`classic_baselines`: VADER on English texts, SnowNLP on Chinese texts;
sentiment) and the naive baseline (the star rating where the set has one that is not the label itself, else the
majority class).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score
from sklearn.preprocessing import MultiLabelBinarizer

from python_jobs.text.calls import runs_here
from python_jobs.text.classic_baselines import CLASSIC, RETRAINED
from python_jobs.text.public_sets import STAR_LABELS
from python_jobs.text.runner import TagSettings, tag_texts
from python_jobs.text.schema import TOPICS

log = logging.getLogger(__name__)

COLUMNS = ["dataset", "language", "field", "tagger", "accuracy", "macro_f1", "coverage", "n", "texts_per_s"]


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
        topics = df["topics"].fillna("").astype(str).str.split("|")
        frame = pd.DataFrame(
            {
                "text_id": df["text_id"],
                "text": df["text"],
                "label": df["sentiment_label"].astype(str),
                "topics": topics.map(lambda ts: [t for t in ts if t]),
                "churn_intent": df["churn_intent"].astype(bool),
            }
        )
        if source == "review" and "rating" in df:
            frame["rating"] = pd.to_numeric(df["rating"], errors="coerce")
            frame["weak_rating"] = frame["rating"]
        sets[f"synthetic_{source}s"] = frame.reset_index(drop=True)
    if "synthetic_tickets" in sets and "synthetic_reviews" in sets:
        # tickets carry no stars: their weak model is the one fitted on the same shop's rated reviews
        sets["synthetic_tickets"].attrs["weak_from"] = "synthetic_reviews"
    return sets


def warehouse_set(warehouse: Path) -> pd.DataFrame | None:
    """The shop's own rated reviews (marts.fct_reviews), stars as proxy labels; None without that table."""
    from python_jobs.warehouse import connect, table_exists

    with connect(warehouse) as con:
        if not table_exists(con, "marts", "fct_reviews"):
            return None
        df = con.execute(
            "select review_id, title, body, rating from marts.fct_reviews where rating between 1 and 5"
        ).df()
    df = df.drop_duplicates("review_id")
    text = _join(df["title"], df["body"])
    out = pd.DataFrame(
        {
            "text_id": df["review_id"].astype(str),
            "text": text,
            "label": df["rating"].round().astype(int).map(STAR_LABELS),
            "weak_rating": df["rating"].astype(float),
        }
    )
    return out[out["text"].str.len() > 0].reset_index(drop=True)


def complaint_class(label: str, topics: list[str]) -> str:
    """satisfied / delivery_problem / quality_problem from a tagger's sentiment and topics. A negative text is a
    delivery problem when it names delivery and no product topic; naming both is a quality problem ("chegou
    quebrado": it arrived, broken), and so is naming neither ("não gostei do produto")."""
    if label != "negative":
        return "satisfied"
    quality = {"product_quality", "size_fit", "packaging"} & set(topics)
    return "delivery_problem" if "delivery" in topics and not quality else "quality_problem"


def _metrics(truth: pd.Series, pred: pd.Series, labels: list) -> tuple[float, float]:
    acc = float(accuracy_score(truth, pred))
    return acc, float(f1_score(truth, pred, labels=labels, average="macro", zero_division=0))


def field_rows(df: pd.DataFrame, pred: pd.DataFrame) -> list[dict]:
    """(field, accuracy, macro_f1, coverage, n) of predictions `pred` (rows aligned with `df`)."""
    rows = []
    if "sentiment_label" in pred:
        truth, p = df["label"].astype(str), pred["sentiment_label"].astype(str)
        labels = sorted(set(truth))
        acc, f1 = _metrics(truth, p, labels)
        rows.append(("sentiment", acc, f1, float(p.isin(["negative", "positive"]).mean())))
    if "topics" in df and "topics" in pred:
        mlb = MultiLabelBinarizer(classes=list(TOPICS))
        y_true = mlb.fit_transform(df["topics"].map(lambda t: [x for x in t if x != "other"]))
        pred_topics = pred["topics"].map(lambda t: [x for x in (t if t is not None else []) if x != "other"])
        y_pred = mlb.transform(pred_topics)
        used = [i for i in range(len(TOPICS)) if y_true[:, i].any()]
        exact = float((y_true == y_pred).all(axis=1).mean())
        f1 = (
            float(f1_score(y_true[:, used], y_pred[:, used], average="macro", zero_division=0))
            if used
            else 0.0
        )
        rows.append(("topics", exact, f1, float(y_pred.any(axis=1).mean())))
    if "churn_intent" in df and "churn_intent" in pred:
        t, p = df["churn_intent"].astype(bool), pred["churn_intent"].fillna(False).astype(bool)
        acc, f1 = _metrics(t, p, [False, True])
        rows.append(("churn_intent", acc, f1, float(pred["churn_intent"].notna().mean())))
    if "complaint" in df and "topics" in pred:
        has = df["complaint"].isin(["satisfied", "delivery_problem", "quality_problem"]).to_numpy()
        if has.any():
            sub = pred[has]
            p = pd.Series(
                [
                    complaint_class(lab, t)
                    for lab, t in zip(sub["sentiment_label"], sub["topics"], strict=True)
                ]
            )
            t = df.loc[has, "complaint"].reset_index(drop=True)
            acc, f1 = _metrics(t, p, sorted(set(t)))
            rows.append(("complaint", acc, f1, 1.0))
    return [dict(zip(["field", "accuracy", "macro_f1", "coverage"], r, strict=True)) for r in rows]


def naive_predictions(df: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """Star rating alone where the set has one (and it is not the label itself); majority class otherwise."""
    majority = df["label"].mode().iloc[0]
    if "rating" in df and df["rating"].notna().any():
        name, labels = "naive:stars", df["rating"].round().map(STAR_LABELS).fillna(majority)
    else:
        name, labels = "naive:majority", pd.Series([majority] * len(df), index=df.index)
    pred = pd.DataFrame({"sentiment_label": labels.to_numpy()})
    if "topics" in df:
        top = pd.Series([t for ts in df["topics"] for t in ts]).mode()
        pred["topics"] = [[top.iloc[0]] if len(top) else [] for _ in range(len(df))]
    if "churn_intent" in df:
        pred["churn_intent"] = bool(df["churn_intent"].mean() > 0.5)
    return name, pred


def _timed_tags(df: pd.DataFrame, settings: TagSettings, model=None) -> tuple[pd.DataFrame, float]:
    start = time.perf_counter()
    tags, tally = tag_texts(df["text_id"].tolist(), df["text"].tolist(), settings, model=model)
    seconds = time.perf_counter() - start
    pred = tags.to_pandas()
    bad = (pred["tag_status"] != "tagged").sum()
    if bad:
        log.warning("%d of %d texts not tagged (%s); they count as wrong", bad, len(pred), tally.line())
    return pred, len(df) / seconds if seconds > 0 else float("nan")


def weak_predictions(df: pd.DataFrame, settings: TagSettings, folds: int = 5) -> pd.DataFrame | None:
    """The local tagger blended with a weak-label model that never saw the scored text, cross-fitted on the
    set's own star ratings (`weak_rating`). None when the set has too few ratings."""
    from python_jobs.text.llm_plugin import LocalTagger
    from python_jobs.text.weak_label import WeakSentiment, base_scores, enough_ratings

    if "weak_rating" not in df or not enough_ratings(df["weak_rating"].to_numpy(float)):
        return None
    fold = np.random.default_rng(0).permutation(len(df)) % folds
    parts = []
    for k in range(folds):
        train, test = df[fold != k], df[fold == k]
        texts = train["text"].tolist()
        weak = WeakSentiment().fit(texts, train["weak_rating"].to_numpy(float), base_scores(texts))
        part = tag_texts(
            test["text_id"].tolist(), test["text"].tolist(), settings, model=LocalTagger(weak=weak)
        )[0].to_pandas()
        part.index = np.nonzero(fold == k)[0]
        parts.append(part)
    return pd.concat(parts).sort_index()


def transferred_weak_predictions(
    df: pd.DataFrame, source: pd.DataFrame, settings: TagSettings
) -> pd.DataFrame | None:
    """The local tagger blended with a weak-label model fitted on another set's star ratings (the shop's rated
    reviews for its tickets, as `ticket_tags` would with `weak`). None when the source has too few ratings."""
    from python_jobs.text.llm_plugin import LocalTagger
    from python_jobs.text.weak_label import WeakSentiment, base_scores, enough_ratings

    if "weak_rating" not in source or not enough_ratings(source["weak_rating"].to_numpy(float)):
        return None
    texts = source["text"].tolist()
    weak = WeakSentiment().fit(texts, source["weak_rating"].to_numpy(float), base_scores(texts))
    return tag_texts(df["text_id"].tolist(), df["text"].tolist(), settings, model=LocalTagger(weak=weak))[
        0
    ].to_pandas()


def _languages(df: pd.DataFrame) -> pd.Series:
    """The set's language column, else the local tagger's detection: the same grouping whichever model is
    scored (a model's own language field may be wrong)."""
    if "language" in df and df["language"].notna().all():
        return df["language"].astype(str).reset_index(drop=True)
    from python_jobs.text.local_tagger import detect_language

    return pd.Series([detect_language(str(t)) for t in df["text"]], dtype=str)


def evaluate(
    sets: dict[str, pd.DataFrame],
    settings: TagSettings,
    weak: bool = False,
    baselines: bool = True,
    fresh_cache_dir: Path | None = None,
    in_sample: frozenset[str] = frozenset({"snownlp_corpus:held-out"}),
    compare: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Long table (COLUMNS): every dataset, language and field, for the tagger (and, with `weak`, the local
    tagger cross-fitted with the set's star ratings), every model id in `compare` (e.g. a local LLM) on the
    same texts, the classic baseline of the language and the naive one. With `fresh_cache_dir`, every set is
    tagged by each model into an empty cache of its own there, so that texts/s measures tagging, not cache hits
    of a set tagged before. Sets named in `in_sample` were the classic baseline's own training data: there the
    classic row is the baseline's method retrained without them (`RETRAINED`), or none."""
    rows = []
    models = [settings.model_id, *(m for m in compare if m != settings.model_id)]
    for model_id in models:
        if runs_here(model_id):  # load lexicons, models or weights before the clock starts
            warm = replace(settings, model_id=model_id)
            if fresh_cache_dir is not None:
                warm.cache_path = Path(fresh_cache_dir) / "warm.sqlite"
            tag_texts(["w1", "w2", "w3"], ["warm up", "热身一下", "aquecimento rápido"], warm)
    for i, (name, df) in enumerate(sets.items()):
        df = df.reset_index(drop=True)
        variants = []
        for j, model_id in enumerate(models):
            run = replace(settings, model_id=model_id)
            if fresh_cache_dir is not None:
                run.cache_path = Path(fresh_cache_dir) / f"eval_{i}_{j}.sqlite"
            pred, speed = _timed_tags(df, run)
            variants.append((model_id, pred, speed))
            if j == 0:
                settings = run
        lang = _languages(df)
        if weak:
            blended = weak_predictions(df, settings)
            if blended is not None:
                variants.append((f"{settings.model_id}+shop-stars", blended.reset_index(drop=True), np.nan))
            source = sets.get(df.attrs.get("weak_from", ""))
            if blended is None and source is not None:
                moved = transferred_weak_predictions(df, source, settings)
                if moved is not None:
                    tagger = f"{settings.model_id}+review-stars"
                    variants.append((tagger, moved.reset_index(drop=True), np.nan))
        for language in sorted(lang.unique()):
            mask = (lang == language).to_numpy()
            sub = df[mask].reset_index(drop=True)
            preds = [(t, p[mask].reset_index(drop=True), s) for t, p, s in variants]
            baseline = (RETRAINED if name in in_sample else CLASSIC).get(language)
            if baselines and baseline is not None:
                tagger, fn = baseline
                fn([])  # load (or fit) the baseline's model before the clock starts
                start = time.perf_counter()
                classic = fn(sub["text"].tolist())
                preds.append((tagger, classic, len(sub) / max(time.perf_counter() - start, 1e-9)))
            preds.append((*naive_predictions(sub), np.nan))
            for tagger, p, s in preds:
                for r in field_rows(sub, p):
                    rows.append(
                        {"dataset": name, "language": language, "tagger": tagger, **r}
                        | {"n": int(mask.sum()), "texts_per_s": s}
                    )
    return pd.DataFrame(rows, columns=COLUMNS)
