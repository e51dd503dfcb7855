"""Latent customer traits for one block of customers (vectorised; no per-customer loops)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from python_jobs.synth import params as P
from python_jobs.synth.writer import labels, ts


@dataclass
class Traits:
    """One block of customers. `num` is the global customer number (customer_id = 'C' + zero-padded num)."""

    num: np.ndarray  # int64
    archetype: np.ndarray  # int8 index into P.ARCHETYPES
    latent_value: np.ndarray  # typical order value (lognormal)
    price_sensitivity: np.ndarray  # 0..1
    base_rate: np.ndarray  # orders per week while content and active
    base_sat: np.ndarray  # satisfaction the customer reverts to
    visit_rate: np.ndarray  # browse sessions per week while engaged
    never_buy: np.ndarray  # bool: signs up, browses, never orders
    signup_us: np.ndarray  # int64 microseconds since epoch
    signup_step: np.ndarray  # first weekly step the customer exists in
    country: np.ndarray  # int8 index into P.COUNTRIES
    channel: np.ndarray  # int8 index into P.CHANNELS
    device: np.ndarray  # int8 preferred device

    @property
    def n(self) -> int:
        return len(self.num)

    @property
    def language(self) -> np.ndarray:
        return P.COUNTRY_LANG[self.country]


def draw_traits(
    rng: np.random.Generator, first_num: int, n: int, start_us: int, days: int, wp: P.WorldParams
) -> Traits:
    """Draw latent traits. 30% of accounts pre-date the world (active from day 0); the rest sign up
    uniformly over the world, except its last 30 days."""
    arche = rng.choice(len(P.ARCHETYPES), size=n, p=P.ARCHETYPE_P).astype(np.int8)
    value = rng.lognormal(np.log(55.0), 0.55, n) * P.ARCHETYPE_VALUE[arche]
    price = rng.beta(2.0, 3.0, n)
    bargain = arche == P.ARCHETYPES.index("bargain_hunter")
    price[bargain] = rng.beta(5.0, 2.0, int(bargain.sum()))
    rate = P.ARCHETYPE_RATE[arche] * rng.gamma(4.0, 0.25, n)
    sat = np.clip(rng.normal(wp.sat_mean, wp.sat_sd, n) + P.ARCHETYPE_SAT[arche], -0.6, 1.0)
    visits = wp.visit_rate * rng.gamma(2.0, 0.5, n)
    never = rng.random(n) < wp.p_never_buy
    old = rng.random(n) < 0.30
    offset_days = np.where(old, -rng.uniform(1, 730, n), rng.uniform(0, max(days - 30, 1), n))
    signup_us = start_us + (offset_days * P.US_PER_DAY).astype(np.int64)
    signup_step = np.maximum(np.floor(offset_days / P.STEP_DAYS), 0).astype(np.int32)
    return Traits(
        num=np.arange(first_num, first_num + n, dtype=np.int64),
        archetype=arche,
        latent_value=value,
        price_sensitivity=price,
        base_rate=rate,
        base_sat=sat,
        visit_rate=visits,
        never_buy=never,
        signup_us=signup_us,
        signup_step=signup_step,
        country=rng.choice(len(P.COUNTRIES), size=n, p=np.array(P.COUNTRY_P) / sum(P.COUNTRY_P)).astype(
            np.int8
        ),
        channel=rng.choice(len(P.CHANNELS), size=n, p=P.CHANNEL_P).astype(np.int8),
        device=rng.choice(len(P.DEVICES), size=n, p=P.DEVICE_P).astype(np.int8),
    )


EMAIL_DOMAINS = ("example.com", "mail.example.org", "shopper.test", "post.example.net")


def customer_tables(
    tr: Traits, cust_ids: pa.Array, sat_final: np.ndarray, churn_us: np.ndarray
) -> tuple[pa.Table, pa.Table]:
    """The customers table and its truth twin."""
    dom = labels(EMAIL_DOMAINS, tr.num % len(EMAIL_DOMAINS))
    email = pc.binary_join_element_wise(pc.utf8_lower(cust_ids), dom, "@")
    customers = pa.table(
        {
            "customer_id": cust_ids,
            "signup_at": ts(tr.signup_us),
            "country": labels(P.COUNTRIES, tr.country),
            "acquisition_channel": labels(P.CHANNELS, tr.channel),
            "email": email,
        }
    )
    truth = pa.table(
        {
            "customer_id": cust_ids,
            "latent_value": np.round(tr.latent_value, 2),
            "price_sensitivity": np.round(tr.price_sensitivity, 4),
            "satisfaction_final": np.round(sat_final, 4),
            "churned_at": ts(churn_us),
            "archetype": labels(P.ARCHETYPES, tr.archetype),
        }
    )
    return customers, truth
