"""Headline statistics of a generated world (DuckDB over the Parquet files): used by the tests,
`churn generate --stats` and reports. `clean_orders` drops dirty rows the way staging would."""

from __future__ import annotations

from pathlib import Path

import duckdb

from python_jobs.synth.dirty import FUTURE_US, LONG_TEXT_CHARS
from python_jobs.synth.writer import RAW_TABLES, SCHEMAS
from python_jobs.warehouse import first_row

KEYS = {
    "customers": "customer_id",
    "orders": "order_id",
    "order_items": "order_item_id",
    "sessions": "session_id",
    "coupon_redemptions": "redemption_id",
    "reviews": "review_id",
    "support_tickets": "ticket_id",
    "interventions": "intervention_id",
}
CLEAN_ORDERS = """
    select distinct o.order_id, o.customer_id, o.ordered_at
    from orders o join (select distinct customer_id from customers) c using (customer_id)
    where o.amount >= 0 and o.ordered_at < timestamp '2030-01-01'
"""


def connect(raw: str | Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name in (*RAW_TABLES, "truth_customers", "truth_texts", "truth_campaigns"):
        path = Path(raw) / f"{name}.parquet"
        if path.exists():
            con.execute(f"create view {name} as select * from read_parquet('{path}')")
    con.execute(f"create view clean_orders as {CLEAN_ORDERS}")
    return con


def dirty_shares(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Share of rows per raw table that a careful staging layer should flag (any reason)."""
    out = {}
    future = f"make_timestamp({FUTURE_US})"
    for name in RAW_TABLES:
        cols = SCHEMAS[name].names
        key = KEYS[name]
        checks = [f"count(*) over (partition by {key}) > 1"]
        if "customer_id" in cols and name != "customers":
            checks += [
                "customer_id is null",
                "customer_id not in (select customer_id from customers where customer_id is not null)",
            ]
        if name == "customers":
            checks.append("customer_id is null")
        checks += [f"{c} < 0" for c in ("amount", "unit_price", "discount_amount") if c in cols]
        checks += [
            f"{c} >= {future}"
            for c in cols
            if SCHEMAS[name].field(c).type.equals(SCHEMAS["orders"].field("ordered_at").type)
        ]
        if "body" in cols:
            checks += ["body = ''", f"length(body) >= {LONG_TEXT_CHARS}"]
        cond = " or ".join(f"coalesce({c}, false)" for c in checks)
        flagged = f"select case when {cond} then 1.0 else 0.0 end as bad from {name}"
        out[name] = first_row(con.execute(f"select avg(bad) from ({flagged})"))[0]
    return out


def world_stats(raw: str | Path) -> dict[str, float]:
    con = connect(raw)
    q = lambda sql: first_row(con.execute(sql))[0]  # noqa: E731
    s: dict[str, float] = {}
    s["customers"] = q("select count(*) from truth_customers")
    s["orders"] = q("select count(*) from clean_orders")
    s["reviews"] = q("select count(*) from truth_texts where source = 'review'")
    s["tickets"] = q("select count(*) from truth_texts where source = 'ticket'")
    s["sessions"] = q("select count(*) from sessions")
    s["repeat_rate"] = q(
        "select avg((n >= 2)::int) from (select customer_id, count(*) n from clean_orders group by 1)"
    )
    s["review_rate"] = s["reviews"] / max(s["orders"], 1)
    s["churn_rate_mid"] = q(
        """
        with t as (select min(ordered_at) + (max(ordered_at) - min(ordered_at)) / 2 as snap from clean_orders),
        elig as (select distinct customer_id from clean_orders, t
                 where ordered_at < snap and ordered_at >= snap - interval 365 day),
        kept as (select distinct customer_id from clean_orders, t
                 where ordered_at >= snap and ordered_at < snap + interval 90 day)
        select avg((k.customer_id is null)::int) from elig e left join kept k using (customer_id)
        """
    )
    s["truth_churned_share"] = q("select avg((churned_at is not null)::int) from truth_customers")
    for lang in ("en", "zh", "pt"):
        s[f"lang_{lang}"] = q(f"select avg((language = '{lang}')::int) from truth_texts")
    s["star_disagreement"] = q(
        """select avg(((r.rating >= 4 and t.sentiment_label = 'negative') or (r.rating <= 2 and t.sentiment_label = 'positive'))::int)
           from truth_texts t join (select distinct on (review_id) * from reviews) r on r.review_id = t.source_id
           where t.source = 'review'"""
    )
    s["churn_intent_share"] = q("select avg(churn_intent::int) from truth_texts")
    s.update({f"dirty_{k}": v for k, v in dirty_shares(con).items()})
    for cid, planted, diff, n, se in campaign_effects(con):
        s[f"effect_{cid}_planted"] = planted
        s[f"effect_{cid}_measured"] = diff
        s[f"effect_{cid}_n"] = n
        s[f"effect_{cid}_se"] = se
    return s


def campaign_effects(con: duckdb.DuckDBPyConnection) -> list[tuple[str, float, float, int, float]]:
    """(campaign_id, planted_effect, treated-minus-control share ordering within 90 days, n customers,
    standard error of that difference). The SE is the plain two-binomial one; arms are stratified on
    purchase history, so it is conservative (the realised spread is about half of it)."""
    return con.execute(
        """
        with iv as (
            select distinct on (customer_id, campaign_id) customer_id, campaign_id, sent_at, arm
            from interventions where customer_id is not null
        ),
        outcome as (
            select iv.campaign_id, iv.arm,
                   max(case when o.ordered_at >= iv.sent_at and o.ordered_at < iv.sent_at + interval 90 day
                            then 1 else 0 end) as ordered
            from iv left join clean_orders o using (customer_id)
            group by iv.campaign_id, iv.customer_id, iv.arm
        ),
        arms as (
            select campaign_id, arm, avg(ordered) p, count(*) n from outcome group by 1, 2
        )
        select a.campaign_id, any_value(t.planted_effect),
               max(p) filter (where arm = 'treatment') - max(p) filter (where arm = 'control'),
               sum(n)::bigint,
               sqrt(sum(p * (1 - p) / n))
        from arms a join truth_campaigns t using (campaign_id)
        group by a.campaign_id order by 1
        """
    ).fetchall()
