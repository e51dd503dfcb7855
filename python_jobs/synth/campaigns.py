"""Past retention campaigns: schedule, at-risk targeting, hash-randomised arms and the planted effect.

The effect is real and measurable: `planted_effect` is the absolute rise in the probability that a
targeted customer orders within 90 days after `sent_at`, treatment vs control. Mechanism: 12 weeks
after the send, a share of the treated customers who have not ordered since the send are won back (they
place an order, their churn clock is reset and their satisfaction recovers). The share is chosen so that
the won-back count equals planted_effect x treated customers, so the measured treated-minus-control
difference in "ordered within 90 days" equals the planted effect up to sampling noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from python_jobs.synth import params as P
from python_jobs.synth.writer import ids, labels, ts

# Win-backs happen in week 12 after the send, on days 84-90 (inside the 90-day window), among treated
# customers with no order so far, not even that week: so no won-back customer would have counted anyway.
WINBACK_AFTER_STEPS = 12
WINBACK_DAYS = 6
WATCH_STEPS = 13


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    action: str
    step: int
    started_us: int
    planted_effect: float
    treatment_share: float
    salt: int

    @property
    def channel(self) -> str:
        return P.ACTIONS[self.action][0]

    @property
    def unit_cost(self) -> float:
        return P.ACTIONS[self.action][1]


def schedule(seed: int, start_us: int, days: int, wp: P.WorldParams) -> list[Campaign]:
    """Campaigns of the world (global: identical for every block). Only those whose 90-day window fits."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xCA4]))
    actions = list(P.ACTIONS)
    order = rng.permutation(len(actions))
    out: list[Campaign] = []
    for i, day in enumerate(wp.campaign_days):
        if day + 91 > days:
            continue
        step = day // P.STEP_DAYS
        out.append(
            Campaign(
                campaign_id=f"CMP{i + 1:02d}",
                action=actions[order[i % len(actions)]],
                step=step,
                started_us=start_us + step * P.STEP_US + 9 * 3600 * 1_000_000,
                planted_effect=wp.planted_effects[i % len(wp.planted_effects)],
                treatment_share=wp.treatment_shares[i % len(wp.treatment_shares)],
                salt=int(rng.integers(1, 2**62)),
            )
        )
    return out


def _splitmix64(x: np.ndarray) -> np.ndarray:
    z = x.astype(np.uint64)
    with np.errstate(over="ignore"):
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def hash_uniform(num: np.ndarray, salt: int) -> np.ndarray:
    """A uniform(0, 1) number per (customer number, salt): the randomisation unit is the customer."""
    with np.errstate(over="ignore"):
        h = _splitmix64(num.astype(np.uint64) ^ np.uint64(salt))
    return (h >> np.uint64(11)).astype(np.float64) / float(2**53)


def target(t: int, signed: np.ndarray, n_orders: np.ndarray, last_order_step: np.ndarray) -> np.ndarray:
    """At-risk rule the shop could run on its own data: has bought, last order 5-26 weeks ago."""
    gap = t - last_order_step
    return np.flatnonzero(signed & (n_orders > 0) & (gap >= 5) & (gap <= 26))


def strata(t: int, n_orders: np.ndarray, last_order_step: np.ndarray) -> np.ndarray:
    """Randomisation strata from purchase history (orders 1 / 2-3 / 4-9 / 10+ x last order 5-12 / 13-26
    weeks ago): arms are balanced on what predicts the outcome most."""
    freq = np.digitize(n_orders, [2, 4, 10])
    recent = (t - last_order_step) <= 12
    return (freq * 2 + recent).astype(np.int64)


def assign_arms(num: np.ndarray, stratum: np.ndarray, salt: int, share: float) -> np.ndarray:
    """Stratified hash randomisation: within each stratum, customers are ranked by a salted hash of their
    id and the first round(share x size) are treated. Deterministic, balanced, unrelated to outcomes."""
    u = hash_uniform(num, salt)
    treated = np.zeros(len(num), bool)
    for s in np.unique(stratum):
        idx = np.flatnonzero(stratum == s)
        ranked = idx[np.argsort(u[idx], kind="stable")]
        treated[ranked[: int(round(share * len(idx)))]] = True
    return treated


@dataclass
class ActiveCampaign:
    """Per-block bookkeeping of one campaign while its window is open."""

    campaign: Campaign
    index: int
    idx: np.ndarray  # block-local customer index of targeted customers
    treated: np.ndarray  # bool per targeted customer
    ordered: np.ndarray  # bool: ordered since the send

    def winback_count(self, rng: np.random.Generator) -> int:
        expected = self.campaign.planted_effect * int(self.treated.sum())
        base = int(np.floor(expected))
        return base + int(rng.random() < expected - base)


def intervention_table(
    camps: list[Campaign], iv: dict[str, np.ndarray], cust_ids: pa.Array, base: int
) -> pa.Table:
    ci = iv["campaign"].astype(np.int64)
    treated = iv["treated"]
    return pa.table(
        {
            "intervention_id": ids("N", base + np.arange(len(ci))),
            "customer_id": cust_ids.take(pa.array(iv["cust"])),
            "campaign_id": labels([c.campaign_id for c in camps], ci),
            "sent_at": ts(iv["sent_us"]),
            "action": labels([c.action for c in camps], ci),
            "channel": labels([c.channel for c in camps], ci),
            "arm": labels(("control", "treatment"), treated.astype(np.int64)),
            "unit_cost": np.where(treated, np.array([c.unit_cost for c in camps])[ci], 0.0)
            if len(camps)
            else np.zeros(0),
        }
    )


def truth_table(camps: list[Campaign]) -> pa.Table:
    return pa.table(
        {
            "campaign_id": pa.array([c.campaign_id for c in camps], pa.string()),
            "action": pa.array([c.action for c in camps], pa.string()),
            "started_at": pa.array([c.started_us for c in camps], pa.timestamp("us")),
            "planted_effect": pa.array([c.planted_effect for c in camps], pa.float64()),
        }
    )
