"""The weekly simulation of one block of customers.

Vectorised over customers; the only Python loop is over weekly time steps (about 105 for two years).
Causal chain: service incidents lower satisfaction at once (and show at once in reviews and tickets);
purchase frequency follows a slowly-lagged satisfaction, so it decays later; the weekly churn hazard
rises with dissatisfaction, inactivity, price sensitivity and a single-order history; a churn decision
starts a notice period that ends at the latent churn date (truth_customers.churned_at), after which orders
stop (rare win-backs aside). Fading leavers take 4-12 weeks over it (fewer orders, visits and cart adds,
churn-intent texts); abrupt leavers (most leavers, nearly all dissatisfied ones) keep buying as before and go
within 1-2 weeks, having complained in reviews and tickets, so their words warn earlier than their behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from python_jobs.synth import campaigns as C
from python_jobs.synth import events as E
from python_jobs.synth import params as P
from python_jobs.synth.world import Traits

ACTIVE, FADING, CHURNED = 0, 1, 2
ORDER_COLS = ("cust", "ordered_us", "promised_us", "delivered_us", "status", "late", "defect", "forced")


@dataclass
class SimResult:
    orders: dict[str, np.ndarray]
    reviews: dict[str, np.ndarray]
    tickets: dict[str, np.ndarray]
    sessions: dict[str, np.ndarray]
    interventions: dict[str, np.ndarray]
    sat_final: np.ndarray
    churn_us: np.ndarray


@dataclass
class _Collector:
    """Per-week arrays, concatenated once at the end of the block."""

    parts: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def add(self, cols: dict[str, np.ndarray], keys: tuple[str, ...] | None = None) -> None:
        for k in keys or cols:
            self.parts.setdefault(k, []).append(cols[k])

    def frame(self, dtypes: dict[str, type]) -> dict[str, np.ndarray]:
        return {
            k: np.concatenate(self.parts[k]) if k in self.parts else np.empty(0, dtype=dt)
            for k, dt in dtypes.items()
        }


@dataclass
class _State:
    """Per-customer latent state while the block is simulated."""

    status: np.ndarray
    sat: np.ndarray
    sat_slow: np.ndarray
    fade_left: np.ndarray
    fade_total: np.ndarray
    abrupt: np.ndarray
    last_order: np.ndarray
    n_orders: np.ndarray
    churn_us: np.ndarray

    @classmethod
    def start(cls, tr: Traits) -> _State:
        n = tr.n
        return cls(
            status=np.zeros(n, np.int8),
            sat=tr.base_sat.copy(),
            sat_slow=tr.base_sat.copy(),
            fade_left=np.zeros(n, np.int16),
            fade_total=np.ones(n, np.int16),
            abrupt=np.zeros(n, bool),
            last_order=np.full(n, -1, np.int32),
            n_orders=np.zeros(n, np.int32),
            churn_us=np.full(n, -1, np.int64),
        )

    def revive(self, who: np.ndarray, base_sat: np.ndarray) -> None:
        """Won back (campaign or spontaneous): active again, churn date cleared, satisfaction restored."""
        back = who & (self.status != ACTIVE)
        self.status[back] = ACTIVE
        self.abrupt[back] = False
        self.churn_us[back] = -1
        self.sat[who] = np.maximum(self.sat[who], base_sat[who])
        self.sat_slow[who] = np.maximum(self.sat_slow[who], base_sat[who])

    def churn_week(
        self, rng: np.random.Generator, t: int, t0: int, tr: Traits, signed: np.ndarray, wp: P.WorldParams
    ) -> np.ndarray:
        """Advance fading customers (ending at the latent churn date) and draw new churn decisions;
        returns the mask of customers who decided to leave this week."""
        w_idle = t - np.maximum(self.last_order, tr.signup_step)
        hz = wp.hazard_base * np.exp(wp.hazard_sat * (wp.sat_mean - self.sat))
        hz *= (1.0 + wp.hazard_inactive * np.minimum(w_idle / 13.0, 3.0)) * (
            1.0 + wp.hazard_price * tr.price_sensitivity
        )
        hz *= np.where(self.n_orders == 1, wp.hazard_one_order, 1.0)
        fading = self.status == FADING
        self.fade_left[fading] -= 1
        gone = fading & (self.fade_left <= 0)
        self.status[gone] = CHURNED
        # the churn date falls after the last order the customer could place this week
        self.churn_us[gone] = t0 + P.STEP_US + rng.integers(0, P.US_PER_DAY, int(gone.sum()))
        decide = (self.status == ACTIVE) & signed & (rng.random(tr.n) < hz)
        self.status[decide] = FADING
        nd = int(decide.sum())
        self.fade_total[decide] = rng.integers(wp.fade_weeks[0], wp.fade_weeks[1], nd)
        p_abrupt = np.where(self.sat < wp.abrupt_sat_below, wp.p_abrupt_dissat, wp.p_abrupt)
        self.abrupt[decide] = rng.random(nd) < p_abrupt[decide]
        quick = decide & self.abrupt
        self.fade_total[quick] = rng.integers(
            wp.abrupt_notice_weeks[0], wp.abrupt_notice_weeks[1], int(quick.sum())
        )
        self.fade_left[decide] = self.fade_total[decide]
        return decide


def simulate_block(
    rng: np.random.Generator,
    tr: Traits,
    start_us: int,
    days: int,
    campaigns: list[C.Campaign],
    wp: P.WorldParams,
) -> SimResult:
    n = tr.n
    end_us = start_us + days * P.US_PER_DAY
    st = _State.start(tr)
    rate_base = np.where(tr.never_buy, 0.0, tr.base_rate)
    orders, reviews, tickets, sessions, interventions = (_Collector() for _ in range(5))
    open_campaigns: list[C.ActiveCampaign] = []
    by_step = {c.step: (i, c) for i, c in enumerate(campaigns)}
    order_offset = 0

    for t in range(int(np.ceil(days / P.STEP_DAYS))):
        t0 = start_us + t * P.STEP_US
        signed = tr.signup_step <= t
        alive = signed & (st.status != CHURNED)
        st.sat += wp.sat_reversion * (tr.base_sat - st.sat)
        st.sat_slow += wp.sat_slow_rate * (st.sat - st.sat_slow)
        # abrupt leavers only slow down in the last abrupt_tail_weeks of their notice period
        fade = np.where(
            st.abrupt,
            np.minimum(st.fade_left / wp.abrupt_tail_weeks, 1.0),
            st.fade_left / st.fade_total,
        )
        fade = np.where(st.status == FADING, fade, 1.0)
        season = 1.0 + 0.15 * np.cos(2 * np.pi * (((t * P.STEP_DAYS) % 365) - 330) / 365.0)
        rate = rate_base * np.exp(wp.rate_sat * (st.sat_slow - wp.sat_mean)) * fade * season
        new = (
            signed
            & (st.n_orders == 0)
            & (t - tr.signup_step < 4)
            & ~tr.never_buy
            & (tr.signup_us >= start_us)
        )
        rate = np.where(new, rate + wp.first_order_boost, rate)
        rate[~alive] = 0.0
        k = np.minimum(rng.poisson(rate), np.where(new, 1, 3)).astype(np.int32)
        winback = (st.status == CHURNED) & signed & (rng.random(n) < wp.p_winback) & ~tr.never_buy
        k[winback] = 1

        # campaigns: send (at-risk targeting, hashed arms), then watch the 90-day window and win back
        if t in by_step:
            ci, camp = by_step[t]
            idx = C.target(t, signed, st.n_orders, st.last_order)
            stratum = C.strata(t, st.n_orders[idx], st.last_order[idx])
            treated = C.assign_arms(tr.num[idx], stratum, camp.salt, camp.treatment_share)
            sent = camp.started_us + rng.integers(0, 8 * 3600 * 1_000_000, len(idx))
            interventions.add(
                {
                    "cust": idx.astype(np.int32),
                    "campaign": np.full(len(idx), ci, np.int16),
                    "sent_us": sent,
                    "treated": treated,
                }
            )
            open_campaigns.append(C.ActiveCampaign(camp, ci, idx, treated, np.zeros(len(idx), bool)))
        forced_c = np.zeros(n, bool)
        for ac in open_campaigns:
            if t == ac.campaign.step + C.WINBACK_AFTER_STEPS:
                elig = ac.idx[ac.treated & ~ac.ordered & (k[ac.idx] == 0)]
                m = min(ac.winback_count(rng), len(elig))
                forced_c[rng.choice(elig, size=m, replace=False) if m else elig[:0]] = True
        k[forced_c] = 1
        st.revive(forced_c | winback, tr.base_sat)
        for ac in open_campaigns:
            ac.ordered |= k[ac.idx] > 0
        open_campaigns = [ac for ac in open_campaigns if t < ac.campaign.step + C.WATCH_STEPS]

        # orders and their incidents move satisfaction at once
        buyers = np.flatnonzero(k)
        cust = np.repeat(buyers, k[buyers]).astype(np.int32)
        o = E.orders_week(rng, t0, cust, forced_c[cust], tr.signup_us, end_us, wp)
        st.sat += np.bincount(o["cust"], weights=o["shock"], minlength=n)
        np.clip(st.sat, -1.0, 1.0, out=st.sat)
        st.n_orders += np.bincount(o["cust"], minlength=n).astype(np.int32)
        st.last_order[o["cust"]] = t
        orders.add(o, ORDER_COLS)

        fading = st.status == FADING
        rv = E.reviews_week(
            rng, o, st.sat, fading, fading & st.abrupt, tr.price_sensitivity, order_offset, wp
        )
        if rv is not None:
            reviews.add(rv)
        tk = E.order_tickets_week(rng, o, st.sat, tr.price_sensitivity, order_offset, wp)
        st.sat += np.bincount(tk["cust"][tk["rude"]], minlength=n) * wp.shock_rude
        decide = st.churn_week(rng, t, t0, tr, signed, wp)
        p_bye = np.where(st.abrupt, wp.p_ticket_abrupt, wp.p_ticket_fade)
        bye = np.flatnonzero(decide & (st.n_orders > 0) & (rng.random(n) < p_bye))
        tickets.add(E.tickets_week(rng, tk, bye, fading, t0))

        eng_fading = np.where(st.abrupt, fade, 0.2 + 0.6 * fade)
        eng = np.where(st.status == ACTIVE, 1.0, np.where(st.status == FADING, eng_fading, 0.03))
        eng = eng * np.exp(0.6 * (st.sat - wp.sat_mean))
        eng[~signed] = 0.0
        sessions.add(E.sessions_week(rng, t0, eng, tr.visit_rate, tr.device, tr.signup_us, o))
        order_offset += len(o["cust"])

    i64, b, i8, i32, f8 = np.int64, np.bool_, np.int8, np.int32, np.float64
    text = {"created_us": i64, "sentiment": f8, "topic1": i8, "topic2": i8, "churn_intent": b}
    return SimResult(
        orders=orders.frame(
            {
                "cust": i32,
                "ordered_us": i64,
                "promised_us": i64,
                "delivered_us": i64,
                "status": i8,
                "late": b,
                "defect": b,
                "forced": b,
            }
        ),
        reviews=reviews.frame({"order_row": i64, **text}),
        tickets=tickets.frame({"cust": i32, "order_row": i64, **text, "channel": i8}),
        sessions=sessions.frame(
            {"cust": i32, "started_us": i64, "device": i8, "is_login": b, "page_views": i32, "cart_adds": i32}
        ),
        interventions=interventions.frame({"cust": i32, "campaign": np.int16, "sent_us": i64, "treated": b}),
        sat_final=st.sat,
        churn_us=st.churn_us,
    )
