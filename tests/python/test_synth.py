"""The synthetic shop world: determinism, raw contract, realistic statistics, dirt, texts, campaigns.

Ranges asserted here are the ones stated in python_jobs/synth/__init__.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner

from python_jobs.synth import generate_world
from python_jobs.synth.commands import generate
from python_jobs.synth.generate import CELL
from python_jobs.synth.stats import connect, world_stats
from python_jobs.synth.writer import RAW_TABLES, SCHEMAS, TRUTH_TABLES

REPO = Path(__file__).resolve().parents[2]
CONTRACT = REPO / "models" / "staging" / "synthetic" / "_synthetic__sources.yml"
ARROW_FOR = {
    "varchar": "string",
    "timestamp": "timestamp[us]",
    "double": "double",
    "integer": "int32",
    "boolean": "bool",
}
TRUTH_COLUMNS = {
    "truth_customers": [
        "customer_id",
        "latent_value",
        "price_sensitivity",
        "satisfaction_final",
        "churned_at",
        "archetype",
    ],
    "truth_texts": [
        "source",
        "source_id",
        "sentiment",
        "sentiment_label",
        "topics",
        "churn_intent",
        "language",
    ],
    "truth_campaigns": ["campaign_id", "action", "started_at", "planted_effect"],
}
N_SMALL = 4_000


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    generate_world(N_SMALL, seed=11, out_dir=out, chunk_size=1_500, progress=False)
    return out


@pytest.fixture(scope="module")
def stats(world: Path) -> dict[str, float]:
    return world_stats(world)


def _tables(path: Path) -> dict[str, object]:
    return {name: pq.read_table(path / f"{name}.parquet") for name in (*RAW_TABLES, *TRUTH_TABLES)}


def test_same_seed_gives_identical_tables_and_another_seed_does_not(world: Path, tmp_path: Path) -> None:
    generate_world(N_SMALL, seed=11, out_dir=tmp_path / "again", chunk_size=1_500, progress=False)
    generate_world(N_SMALL, seed=12, out_dir=tmp_path / "other", chunk_size=1_500, progress=False)
    first, again, other = _tables(world), _tables(tmp_path / "again"), _tables(tmp_path / "other")
    for name in first:
        assert first[name].equals(again[name]), name
    assert not first["orders"].equals(other["orders"])
    assert not first["reviews"].equals(other["reviews"])


def test_content_does_not_depend_on_chunk_size(tmp_path: Path) -> None:
    n = 2 * CELL + 700  # three random-stream cells
    generate_world(n, seed=3, out_dir=tmp_path / "small", chunk_size=CELL, days=400, progress=False)
    generate_world(n, seed=3, out_dir=tmp_path / "large", chunk_size=10 * CELL, days=400, progress=False)
    small, large = _tables(tmp_path / "small"), _tables(tmp_path / "large")
    for name in small:
        assert small[name].equals(large[name]), name
    assert pq.ParquetFile(tmp_path / "small" / "orders.parquet").num_row_groups == 3
    assert len(set(small["truth_customers"].column("customer_id").to_pylist())) == n


def test_raw_tables_match_the_contract_yaml(world: Path) -> None:
    contract = yaml.safe_load(CONTRACT.read_text())
    tables = {t["name"]: t for t in contract["sources"][0]["tables"]}
    assert set(tables) == set(RAW_TABLES)
    for name, spec in tables.items():
        schema = pq.read_schema(world / f"{name}.parquet")
        assert schema.names == [c["name"] for c in spec["columns"]], name
        for col in spec["columns"]:
            assert str(schema.field(col["name"]).type) == ARROW_FOR[col["data_type"]], (name, col["name"])


def test_truth_tables_match_team_contract(world: Path) -> None:
    for name, cols in TRUTH_COLUMNS.items():
        assert pq.read_schema(world / f"{name}.parquet").names == cols
        assert SCHEMAS[name].names == cols


def test_statistics_land_in_stated_ranges(stats: dict[str, float]) -> None:
    assert 0.50 <= stats["repeat_rate"] <= 0.75
    assert 0.30 <= stats["churn_rate_mid"] <= 0.55
    assert 0.10 <= stats["review_rate"] <= 0.30
    assert 0.10 <= stats["truth_churned_share"] <= 0.50
    assert stats["orders"] > 5 * N_SMALL


def test_dirty_row_shares_are_realistic(stats: dict[str, float]) -> None:
    for name in RAW_TABLES:
        assert 0.005 <= stats[f"dirty_{name}"] <= 0.02, name


def test_every_kind_of_dirt_is_present(world: Path) -> None:
    con = connect(world)
    one = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
    assert one("select count(*) - count(distinct order_id) from orders") > 0
    assert (
        one("select count(*) from (select order_id from orders group by 1 having count(distinct amount) > 1)")
        > 0
    )
    assert one("select count(*) from orders where customer_id is null") > 0
    assert one("select count(*) from orders where amount < 0") > 0
    assert one("select count(*) from sessions where started_at >= timestamp '2030-01-01'") > 0
    assert one("select count(*) from reviews where body = ''") > 0
    assert one("select count(*) from support_tickets where length(body) > 20000") > 0
    assert (
        one(
            "select count(*) from orders where customer_id not in (select customer_id from customers where customer_id is not null)"
        )
        > 0
    )
    assert one("select count(*) - count(distinct customer_id) from customers") > 0


def test_texts_languages_pii_injection_and_disagreement(world: Path, stats: dict[str, float]) -> None:
    assert 0.60 <= stats["lang_en"] <= 0.80
    assert 0.15 <= stats["lang_zh"] <= 0.35
    assert 0.02 <= stats["lang_pt"] <= 0.10
    assert 0.02 <= stats["star_disagreement"] <= 0.15
    con = connect(world)
    bodies = [r[0] for r in con.execute("select body from support_tickets where body is not null").fetchall()]
    email = re.compile(r"[\w.]+@[\w.]+\.\w+")
    assert sum(bool(email.search(b)) for b in bodies) / len(bodies) > 0.01
    inj = con.execute(
        """select t.sentiment from truth_texts t join reviews r on r.review_id = t.source_id
           where t.source = 'review' and lower(r.body) like '%ignore%instructions%'"""
    ).fetchall()
    assert inj and all(s < 0 for (s,) in inj)
    text = " ".join(
        r[0] for r in con.execute("select body from reviews using sample 3000 rows (reservoir, 1)").fetchall()
    )
    assert "not " in text and "不" in text
    assert con.execute("select count(*) from truth_texts where churn_intent").fetchone()[0] > 0
    topics = {
        t for (s,) in con.execute("select distinct topics from truth_texts").fetchall() for t in s.split("|")
    }
    assert topics == {
        "delivery", "product_quality", "price_value", "customer_service", "returns_refunds",
        "packaging", "size_fit", "website_app", "payment", "other",
    }  # fmt: skip
    mixed = con.execute(
        "select avg(('|' in topics)::int) from truth_texts where source = 'review'"
    ).fetchone()[0]
    assert 0.1 <= mixed <= 0.5


def test_dissatisfaction_shows_in_text_while_behaviour_barely_fades(world: Path) -> None:
    """Leavers' reviews turn negative before they go, while their visits hardly slow down: most leave abruptly
    (the fading minority still slows a little), so the warning is in their words, not their behaviour."""
    con = connect(world)
    senti_before_churn, senti_loyal = con.execute(
        """
        with tx as (
            select r.customer_id, r.created_at, t.sentiment
            from truth_texts t join (select distinct on (review_id) review_id id, customer_id, created_at from reviews) r
              on r.id = t.source_id
            where t.source = 'review'
        )
        select avg(sentiment) filter (where c.churned_at is not null and tx.created_at >= c.churned_at - interval 120 day
                                        and tx.created_at < c.churned_at),
               avg(sentiment) filter (where c.churned_at is null)
        from tx join truth_customers c using (customer_id)
        """
    ).fetchone()
    assert senti_before_churn < senti_loyal - 0.1
    recent, earlier = con.execute(
        """
        select count(*) filter (where s.started_at >= c.churned_at - interval 30 day and s.started_at < c.churned_at) / 30.0,
               count(*) filter (where s.started_at >= c.churned_at - interval 180 day
                                  and s.started_at < c.churned_at - interval 90 day) / 90.0
        from sessions s join truth_customers c using (customer_id)
        where c.churned_at >= timestamp '2024-09-01'
        """
    ).fetchone()
    assert 0.8 * earlier < recent < earlier


def test_orders_respect_signup_and_latent_churn_and_coupons_follow_price_sensitivity(world: Path) -> None:
    con = connect(world)
    before_signup, after_churn = con.execute(
        """
        with c as (select customer_id, min(signup_at) signup_at from customers
                   where signup_at < timestamp '2030-01-01' group by 1)
        select count(*) filter (where o.ordered_at < c.signup_at), count(*) filter (where o.ordered_at > t.churned_at)
        from clean_orders o join c using (customer_id) join truth_customers t using (customer_id)
        """
    ).fetchone()
    assert before_signup == 0 and after_churn == 0
    low, high = con.execute(
        """
        with o as (select customer_id, count(*) n from clean_orders group by 1),
        r as (select customer_id, count(distinct redemption_id) k from coupon_redemptions group by 1)
        select avg(coalesce(k, 0) / n) filter (where t.price_sensitivity < 0.3),
               avg(coalesce(k, 0) / n) filter (where t.price_sensitivity > 0.7)
        from o join truth_customers t using (customer_id) left join r using (customer_id)
        """
    ).fetchone()
    assert high > 2 * low


def test_campaign_effect_is_recovered(tmp_path: Path) -> None:
    """40k customers: about 7k targeted per campaign. Each campaign's treated-minus-control difference must
    sit within 4 standard errors of the planted effect (SE from the two arms' binomial variances, about
    0.012-0.017), and the mean over campaigns within 4 pooled SEs (about 0.006)."""
    generate_world(40_000, seed=5, out_dir=tmp_path, progress=False)
    s = world_stats(tmp_path)
    ids = sorted({k.split("_")[1] for k in s if k.startswith("effect_")})
    assert len(ids) >= 4
    planted = np.array([s[f"effect_{i}_planted"] for i in ids])
    measured = np.array([s[f"effect_{i}_measured"] for i in ids])
    se = np.array([s[f"effect_{i}_se"] for i in ids])
    assert (se < 0.025).all()
    assert (np.abs(measured - planted) < 4 * se).all()
    pooled_se = np.sqrt((se**2).sum()) / len(ids)
    assert abs(measured.mean() - planted.mean()) < 4 * pooled_se
    assert measured.mean() > 0.03  # a real effect, not noise around zero


def test_cli_writes_every_table(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        generate, ["--customers", "300", "--seed", "1", "--out", str(tmp_path), "--days", "400"]
    )
    assert res.exit_code == 0, res.output
    for name in (*RAW_TABLES, *TRUTH_TABLES):
        assert (tmp_path / f"{name}.parquet").exists(), name
    assert pq.read_table(tmp_path / "truth_customers.parquet").num_rows == 300
