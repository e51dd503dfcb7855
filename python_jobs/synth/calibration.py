"""How hard is a generated world? Calibration statistics straight from the raw Parquet, plus the truth ceiling.

    python -m python_jobs.synth.calibration RAW_DIR [--no-ceiling]

Evaluation-only helper (like `stats`): it reads the generator's truth_* tables and is never part of the dbt DAG
or the product's models. It mirrors the warehouse's definitions closely enough to calibrate the generator in
seconds instead of a full build: orders valid at T (not cancelled before T), monthly snapshots from the first
month start 30+ days after the first order, as-of = the day after the last order, evaluation snapshot = the
latest T with T + 90 days <= as-of, eligible = an order in [T - 365 d, T), churned = no valid order in
[T, T + 90 d), RFM quintile scores as models/marts/behavior/customer_rfm.sql.

The truth ceiling: logistic regressions on the same behaviour features, trained on the snapshots whose horizon
closes by the evaluation snapshot and scored on it, without and with text features computed from the
generator's TRUE text state (truth_texts: sentiment, churn intent) instead of a tagger's output. It bounds what
any tagger can add on this world; the product's baseline / enhanced numbers come from churn_model_metrics.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from python_jobs.warehouse import first_row

HORIZON, LOOKBACK, RECENT = 90, 365, 90

ORDERS = """
    select distinct o.order_id, o.customer_id, o.ordered_at, o.cancelled_at, o.amount
    from read_parquet('{raw}/orders.parquet') o
    join (select distinct customer_id from read_parquet('{raw}/customers.parquet')) c using (customer_id)
    where o.amount >= 0 and o.ordered_at < timestamp '2030-01-01' and o.customer_id is not null
"""
TEXTS = """
    select r.customer_id, r.created_at, t.sentiment, t.churn_intent
    from read_parquet('{raw}/truth_texts.parquet') t
    join (select distinct review_id as id, customer_id, created_at from read_parquet('{raw}/reviews.parquet')) r
      on t.source = 'review' and t.source_id = r.id
    union all
    select k.customer_id, k.created_at, t.sentiment, t.churn_intent
    from read_parquet('{raw}/truth_texts.parquet') t
    join (select distinct ticket_id as id, customer_id, created_at
          from read_parquet('{raw}/support_tickets.parquet')) k
      on t.source = 'ticket' and t.source_id = k.id
"""
FRAME = f"""
    with spine as (select unnest(?::date[]) as snapshot_date),
    w as (
        select o.customer_id, s.snapshot_date,
               count(*) filter (where o.ordered_at >= s.snapshot_date - interval {LOOKBACK} day) as frequency,
               coalesce(sum(o.amount) filter (where o.ordered_at >= s.snapshot_date - interval {LOOKBACK} day), 0)
                   as monetary,
               count(*) as lifetime_orders,
               count(*) filter (where o.ordered_at >= s.snapshot_date - interval 90 day) as orders_90d,
               count(*) filter (where o.ordered_at >= s.snapshot_date - interval 180 day
                                  and o.ordered_at < s.snapshot_date - interval 90 day) as orders_prior_90d,
               date_diff('day', max(o.ordered_at), s.snapshot_date) as recency_days,
               date_diff('day', min(o.ordered_at), s.snapshot_date) as tenure_days
        from orders o join spine s
          on o.ordered_at < s.snapshot_date and (o.cancelled_at is null or o.cancelled_at >= s.snapshot_date)
        group by o.customer_id, s.snapshot_date
    ),
    h as (
        select distinct o.customer_id, s.snapshot_date
        from orders o join spine s
          on o.ordered_at >= s.snapshot_date and o.ordered_at < s.snapshot_date + interval {HORIZON} day
         and (o.cancelled_at is null or o.cancelled_at >= s.snapshot_date + interval {HORIZON} day)
    ),
    tx as (
        select x.customer_id, s.snapshot_date,
               count(*) as texts_recent,
               avg(x.sentiment) as sentiment_recent,
               min(x.sentiment) as sentiment_min_recent,
               max(x.churn_intent::int) as churn_intent_recent,
               sum((x.sentiment < -0.3)::int) as negative_recent
        from texts x join spine s
          on x.created_at < s.snapshot_date and x.created_at >= s.snapshot_date - interval {RECENT} day
        group by x.customer_id, s.snapshot_date
    )
    select w.*, h.customer_id is null as churned,
           coalesce(tx.texts_recent, 0) as texts_recent,
           coalesce(tx.sentiment_recent, 0) as sentiment_recent,
           coalesce(tx.sentiment_min_recent, 0) as sentiment_min_recent,
           coalesce(tx.churn_intent_recent, 0) as churn_intent_recent,
           coalesce(tx.negative_recent, 0) as negative_recent
    from w
    left join h using (customer_id, snapshot_date)
    left join tx using (customer_id, snapshot_date)
    where w.frequency > 0
"""
BEHAVIOUR = [
    "recency_days",
    "frequency",
    "monetary",
    "lifetime_orders",
    "orders_90d",
    "orders_prior_90d",
    "tenure_days",
]
TRUTH_TEXT = [
    "texts_recent",
    "sentiment_recent",
    "sentiment_min_recent",
    "churn_intent_recent",
    "negative_recent",
]


def _connect(raw: str | Path) -> duckdb.DuckDBPyConnection:
    raw = Path(raw).resolve()
    con = duckdb.connect()
    con.execute(f"create temp table orders as {ORDERS.format(raw=raw)}")
    con.execute(f"create temp table texts as {TEXTS.format(raw=raw)}")
    return con


def _spine(con: duckdb.DuckDBPyConnection) -> tuple[list[pd.Timestamp], pd.Timestamp]:
    first, last = first_row(con.execute("select min(ordered_at)::date, max(ordered_at)::date from orders"))
    as_of = pd.Timestamp(last) + pd.Timedelta(days=1)
    start = (pd.Timestamp(first) + pd.Timedelta(days=30) + pd.offsets.MonthBegin(0)).normalize()
    snaps = list(pd.date_range(start, as_of - pd.Timedelta(days=1), freq="MS"))
    observed = [s for s in snaps if s + pd.Timedelta(days=HORIZON) <= as_of]
    return observed, observed[-1]


def frame(raw: str | Path) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Eligible customers x observed snapshots with behaviour, label and truth-text columns; the eval date."""
    con = _connect(raw)
    snaps, test = _spine(con)
    df = con.execute(FRAME, [[s.date() for s in snaps]]).df()
    df["snapshot_date"] = pd.to_datetime(df["snapshot_date"])
    return df, test


def rfm_score(df: pd.DataFrame) -> pd.Series:
    """customer_rfm.sql's quintile sum within each snapshot (5 = most recent / frequent / spending)."""

    def q(col: str, ascending: bool) -> pd.Series:
        r = df.groupby("snapshot_date")[col].rank(method="min", ascending=ascending)
        n = df.groupby("snapshot_date")[col].transform("size")
        pr = (r - 1) / (n - 1).clip(lower=1)
        return np.minimum(5, 1 + np.floor(5 * pr))

    return q("recency_days", False) + q("frequency", True) + q("monetary", True)


def world_difficulty(raw: str | Path, ceiling: bool = True) -> dict[str, float]:
    """Peer AUCs and churn rate on the evaluation snapshot, buyer statistics, and (optionally) the ceiling."""
    from sklearn.metrics import roc_auc_score

    df, test_date = frame(raw)
    df["rfm_score"] = rfm_score(df)
    test = df[df["snapshot_date"] == test_date]
    y = test["churned"].astype(int)
    out: dict[str, float] = {
        "eval_snapshot": str(test_date.date()),
        "n_test": len(test),
        "churn_rate": float(y.mean()),
        "peer_rfm_score_auc": float(roc_auc_score(y, -test["rfm_score"])),
        "peer_recency_auc": float(roc_auc_score(y, test["recency_days"])),
    }
    out.update(buyer_stats(raw))
    if ceiling:
        out.update(truth_ceiling(df, test_date))
    return out


def buyer_stats(raw: str | Path) -> dict[str, float]:
    """Share of buyers with exactly one order, and the median / mean days between a buyer's consecutive orders."""
    con = _connect(raw)
    one = first_row(
        con.execute(
            "select avg((n = 1)::int) from (select customer_id, count(*) n from orders "
            "where cancelled_at is null group by 1)"
        )
    )[0]
    med, mean = first_row(
        con.execute(
            """select median(g), avg(g) from (
               select date_diff('hour', lag(ordered_at) over (partition by customer_id order by ordered_at),
                                ordered_at) / 24.0 as g
               from orders where cancelled_at is null) where g is not null"""
        )
    )
    return {"one_time_buyer_share": float(one), "median_gap_days": float(med), "mean_gap_days": float(mean)}


def _fit_auc(train: pd.DataFrame, test: pd.DataFrame, cols: list[str]) -> tuple[float, np.ndarray]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def x(d: pd.DataFrame) -> np.ndarray:
        v = d[cols].astype("float64").to_numpy()
        return np.sign(v) * np.log1p(np.abs(v))

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, class_weight="balanced"))
    model.fit(x(train), train["churned"].astype(int))
    p = model.predict_proba(x(test))[:, 1]
    return float(roc_auc_score(test["churned"].astype(int), p)), p


def truth_ceiling(
    df: pd.DataFrame, test_date: pd.Timestamp, n_boot: int = 500, seed: int = 42
) -> dict[str, float]:
    """Behaviour-only vs behaviour + TRUE text state, same estimator and split; paired bootstrap CI of the gain."""
    from sklearn.metrics import roc_auc_score

    train = df[df["snapshot_date"] + pd.Timedelta(days=HORIZON) <= test_date]
    test = df[df["snapshot_date"] == test_date]
    base_auc, pb = _fit_auc(train, test, BEHAVIOUR)
    truth_auc, pt = _fit_auc(train, test, BEHAVIOUR + TRUTH_TEXT)
    y = test["churned"].astype(int).to_numpy()
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(n_boot):
        i = rng.integers(0, len(y), len(y))
        if y[i].min() == y[i].max():
            continue
        diffs.append(roc_auc_score(y[i], pt[i]) - roc_auc_score(y[i], pb[i]))
    lo, hi = np.quantile(diffs, [0.025, 0.975])
    return {
        "ceiling_behaviour_auc": base_auc,
        "ceiling_truth_text_auc": truth_auc,
        "ceiling_gain": truth_auc - base_auc,
        "ceiling_gain_ci_low": float(lo),
        "ceiling_gain_ci_high": float(hi),
    }


TRUTH_VOICE = """
    with keys as (select distinct customer_id, snapshot_date from training_keys),
    tx as (
        select t.customer_id, t.created_at, t.sentiment, t.sentiment_label, t.churn_intent,
               string_split(t.topics, '|') as topics,
               t.source = 'ticket' or t.sentiment_label = 'negative' as is_complaint
        from texts_full t
    ),
    j as (select k.customer_id, k.snapshot_date, tx.* exclude (customer_id)
          from keys k join tx on tx.customer_id = k.customer_id and tx.created_at < k.snapshot_date)
    select customer_id, snapshot_date,
           avg(sentiment) as mean_sentiment,
           min(sentiment) as min_sentiment,
           arg_max(sentiment, created_at) as last_sentiment,
           avg((sentiment_label = 'negative')::int) as negative_share,
           date_diff('day', max(created_at) filter (where sentiment_label = 'negative'), snapshot_date)
               as days_since_last_negative,
           max(churn_intent::int) = 1 as churn_intent_flag,
           avg(sentiment) filter (where created_at >= snapshot_date - interval {recent} day) as mean_sentiment_90d,
           coalesce(max(churn_intent::int) filter (where created_at >= snapshot_date - interval {recent} day), 0) = 1
               as churn_intent_90d,
           {topics}
    from j group by customer_id, snapshot_date
"""
TEXTS_FULL = """
    select r.customer_id, r.created_at, t.sentiment, t.sentiment_label, t.churn_intent, t.topics, t.source
    from read_parquet('{raw}/truth_texts.parquet') t
    join (select distinct on (review_id) review_id as id, customer_id, created_at
          from read_parquet('{raw}/reviews.parquet') where customer_id is not null) r
      on t.source = 'review' and t.source_id = r.id
    union all
    select k.customer_id, k.created_at, t.sentiment, t.sentiment_label, t.churn_intent, t.topics, t.source
    from read_parquet('{raw}/truth_texts.parquet') t
    join (select distinct on (ticket_id) ticket_id as id, customer_id, created_at
          from read_parquet('{raw}/support_tickets.parquet') where customer_id is not null) k
      on t.source = 'ticket' and t.source_id = k.id
"""


def product_truth_ceiling(warehouse: str | Path, raw: str | Path, n_boot: int = 500) -> dict[str, float]:
    """The product's own fit (python_jobs.churn: same feature registry, estimators, selection and split) on a
    built warehouse's ml.churn_training_set, with the tagger's text columns replaced by the same columns computed
    from the generator's TRUE text state (truth_texts); embedding components, which have no truth twin, are
    left out. Returns the enhanced-minus-baseline ROC-AUC gain with its paired bootstrap CI. Read-only on the
    warehouse; nothing is written back."""
    from python_jobs.churn import features, run
    from python_jobs.taxonomy import topic_keys

    con = duckdb.connect(str(warehouse), read_only=True)
    frame = con.execute("select * from ml.churn_training_set where split in ('train', 'test')").df()
    con.close()
    specs = features.load_specs()
    truth_cols = [
        "mean_sentiment", "min_sentiment", "last_sentiment", "negative_share", "days_since_last_negative",
        "churn_intent_flag", "mean_sentiment_90d", "churn_intent_90d",
        *[f"topic_{t}_count" for t in topic_keys()],
    ]  # fmt: skip
    keep_text = {"reviews_90d", "reviews_lifetime", "tickets_90d", "tickets_lifetime", *truth_cols}
    specs = [s for s in specs if s.feature_set != "text" or s.name in keep_text]
    topics = ",\n".join(
        f"sum((is_complaint and list_contains(topics, '{t}'))::int) as topic_{t}_count" for t in topic_keys()
    )
    tcon = duckdb.connect()
    tcon.register("training_keys", frame[["customer_id", "snapshot_date"]])
    tcon.execute(f"create temp table texts_full as {TEXTS_FULL.format(raw=Path(raw).resolve())}")
    truth = tcon.execute(TRUTH_VOICE.format(recent=RECENT, topics=topics)).df()
    frame = frame.drop(columns=[c for c in truth_cols if c in frame.columns]).merge(
        truth, on=["customer_id", "snapshot_date"], how="left"
    )
    for c in ("churn_intent_flag", "churn_intent_90d", *[f"topic_{t}_count" for t in topic_keys()]):
        frame[c] = frame[c].fillna(0)
    fitted = run.fit(frame, specs, run.Settings(n_boot=n_boot))
    m = fitted.metrics.set_index(["feature_set", "model_kind"])
    out: dict[str, float] = {}
    for fs in ("baseline", "enhanced"):
        row = m.loc[(fs, fitted.selected[fs])]
        out[f"truth_{fs}_auc"] = float(row["roc_auc"])
    enh = m.loc[("enhanced", fitted.selected["enhanced"])]
    out.update(
        truth_gain=float(enh["auc_diff"]),
        truth_gain_ci_low=float(enh["auc_diff_ci_low"]),
        truth_gain_ci_high=float(enh["auc_diff_ci_high"]),
    )
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("raw", help="directory with the generated Parquet tables")
    ap.add_argument("--no-ceiling", action="store_true", help="skip the truth-ceiling models")
    ap.add_argument(
        "--warehouse",
        help="a DuckDB file built from RAW: also refit the product's models with true text state",
    )
    args = ap.parse_args(argv)
    res = world_difficulty(args.raw, ceiling=not args.no_ceiling)
    if args.warehouse:
        res.update(product_truth_ceiling(args.warehouse, args.raw))
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in res.items()}, indent=2))


if __name__ == "__main__":
    main()
