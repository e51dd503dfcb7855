"""The weekly simulation of one block of customers: purchases, incidents, satisfaction, churn,
sessions, review/ticket events and campaigns.

Vectorised over customers; the only Python loop is over weekly time steps (about 105 for two years).
Causal chain: service incidents lower satisfaction at once (and show at once in reviews and tickets);
purchase frequency follows a slowly-lagged satisfaction, so it decays later; the weekly churn hazard
rises with dissatisfaction, inactivity and price sensitivity; a churn decision starts a fading phase of
3-8 weeks (fewer orders, visits and cart adds, churn-intent texts) that ends at the latent churn date.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from python_jobs.synth import campaigns as C
from python_jobs.synth import params as P
from python_jobs.synth.world import Traits

ACTIVE, FADING, CHURNED = 0, 1, 2
STATUS_COMPLETED, STATUS_CANCELLED, STATUS_RETURNED = 0, 1, 2


@dataclass
class SimResult:
    orders: dict[str, np.ndarray]
    reviews: dict[str, np.ndarray]
    tickets: dict[str, np.ndarray]
    sessions: dict[str, np.ndarray]
    interventions: dict[str, np.ndarray]
    sat_final: np.ndarray
    churn_us: np.ndarray


class _Collector:
    """Per-step arrays, concatenated once at the end of the block."""

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {}

    def add(self, **cols: np.ndarray) -> None:
        for k, v in cols.items():
            self.parts.setdefault(k, []).append(v)

    def frame(self, columns: dict[str, type]) -> dict[str, np.ndarray]:
        return {
            k: (np.concatenate(self.parts[k]) if k in self.parts else np.empty(0, dtype=dt))
            for k, dt in columns.items()
        }


def _primary_topic(rng: np.random.Generator, late, defect, returned, lost, cancelled, price) -> np.ndarray:
    m = len(late)
    base = rng.choice(
        [
            P.TOPIC[k]
            for k in (
                "product_quality",
                "delivery",
                "price_value",
                "packaging",
                "size_fit",
                "website_app",
                "customer_service",
                "other",
            )
        ],
        size=m,
        p=[0.30, 0.18, 0.20, 0.08, 0.10, 0.05, 0.03, 0.06],
    ).astype(np.int8)
    price_pick = rng.random(m) < 0.35 * price
    base[price_pick] = P.TOPIC["price_value"]
    u = rng.random(m)
    base[late | lost] = P.TOPIC["delivery"]
    base[returned] = np.where(u[returned] < 0.5, P.TOPIC["size_fit"], P.TOPIC["returns_refunds"])
    base[defect] = np.where(u[defect] < 0.7, P.TOPIC["product_quality"], P.TOPIC["packaging"])
    base[cancelled] = np.where(u[cancelled] < 0.5, P.TOPIC["payment"], P.TOPIC["returns_refunds"])
    return base


def _secondary_topic(rng: np.random.Generator, first: np.ndarray, p: float) -> np.ndarray:
    m = len(first)
    second = rng.integers(0, len(P.TOPICS) - 1, m).astype(np.int8)
    second = np.where(second >= first, second + 1, second).astype(np.int8)
    return np.where(rng.random(m) < p, second, -1).astype(np.int8)


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
    n_steps = int(np.ceil(days / P.STEP_DAYS))
    state = np.zeros(n, np.int8)
    sat = tr.base_sat.copy()
    sat_slow = sat.copy()
    fade_left = np.zeros(n, np.int16)
    fade_total = np.ones(n, np.int16)
    last_order = np.full(n, -1, np.int32)
    n_orders = np.zeros(n, np.int32)
    churn_us = np.full(n, -1, np.int64)
    rate_base = np.where(tr.never_buy, 0.0, tr.base_rate)
    price = tr.price_sensitivity

    orders, reviews, tickets, sessions, interventions = (_Collector() for _ in range(5))
    open_campaigns: list[C.ActiveCampaign] = []
    by_step = {c.step: (i, c) for i, c in enumerate(campaigns)}
    order_offset = 0

    for t in range(n_steps):
        t0 = start_us + t * P.STEP_US
        signed = tr.signup_step <= t
        alive = signed & (state != CHURNED)
        sat += wp.sat_reversion * (tr.base_sat - sat)
        sat_slow += wp.sat_slow_rate * (sat - sat_slow)
        fade = np.where(state == FADING, fade_left / fade_total, 1.0)
        season = 1.0 + 0.15 * np.cos(2 * np.pi * (((t * P.STEP_DAYS) % 365) - 330) / 365.0)
        rate = rate_base * np.exp(wp.rate_sat * (sat_slow - wp.sat_mean)) * fade * season
        new = signed & (n_orders == 0) & (t - tr.signup_step < 4) & ~tr.never_buy & (tr.signup_us >= start_us)
        rate = np.where(new, rate + wp.first_order_boost, rate)
        rate[~alive] = 0.0
        k = np.minimum(rng.poisson(rate), np.where(new, 1, 3)).astype(np.int32)
        # rare natural win-back of churned customers
        wb = (state == CHURNED) & signed & (rng.random(n) < wp.p_winback) & ~tr.never_buy
        k[wb] = 1

        # campaigns: send (targeting + arms), then watch their 90-day window and win back treated customers
        if t in by_step:
            ci, camp = by_step[t]
            idx = C.target(t, signed, n_orders, last_order)
            treated = C.hash_uniform(tr.num[idx], camp.salt) < camp.treatment_share
            sent = camp.started_us + rng.integers(0, 8 * 3600 * 1_000_000, len(idx))
            interventions.add(
                cust=idx.astype(np.int32),
                campaign=np.full(len(idx), ci, np.int16),
                sent_us=sent,
                treated=treated,
            )
            open_campaigns.append(C.ActiveCampaign(camp, ci, idx, treated, np.zeros(len(idx), bool)))
        forced_c = np.zeros(n, bool)
        for ac in open_campaigns:
            if t == ac.campaign.step + C.WINBACK_AFTER_STEPS:
                elig = ac.idx[ac.treated & ~ac.ordered & (k[ac.idx] == 0)]
                m = min(ac.winback_count(rng), len(elig))
                chosen = rng.choice(elig, size=m, replace=False) if m else elig[:0]
                forced_c[chosen] = True
        if forced_c.any():
            k[forced_c] = 1
        revived = (forced_c | wb) & (state != ACTIVE)
        state[revived] = ACTIVE
        churn_us[revived] = -1
        sat[forced_c | wb] = np.maximum(sat[forced_c | wb], tr.base_sat[forced_c | wb])
        sat_slow[forced_c | wb] = np.maximum(sat_slow[forced_c | wb], tr.base_sat[forced_c | wb])
        for ac in open_campaigns:
            ac.ordered |= k[ac.idx] > 0
        open_campaigns = [ac for ac in open_campaigns if t < ac.campaign.step + C.WATCH_STEPS]

        # orders and incidents
        buyers = np.flatnonzero(k)
        cust = np.repeat(buyers, k[buyers]).astype(np.int32)
        m = len(cust)
        ordered_us = t0 + rng.integers(0, P.STEP_US, m)
        su = tr.signup_us[cust]
        ordered_us = np.where(ordered_us < su, su + rng.integers(600_000_000, P.US_PER_DAY, m), ordered_us)
        keep = ordered_us < end_us
        cust, ordered_us, m = cust[keep], ordered_us[keep], int(keep.sum())
        forced = forced_c[cust]
        u = rng.random((6, m))
        cancelled = (u[0] < wp.p_cancel) & ~forced
        late = (u[1] < wp.p_late) & ~cancelled & ~forced
        defect = (u[2] < wp.p_defect) & ~cancelled & ~forced
        lost = (u[3] < wp.p_lost) & ~cancelled & ~forced
        returned = (u[4] < wp.p_return + 0.5 * defect) & ~cancelled & ~lost & ~forced
        days_late = np.where(late, 1 + rng.geometric(0.3, m), 0)
        promised_us = ordered_us + (3 + rng.integers(0, 5, m)) * P.US_PER_DAY
        delivered_us = np.where(
            late,
            promised_us + days_late * P.US_PER_DAY - rng.integers(0, P.US_PER_DAY, m),
            promised_us - rng.integers(0, 2 * P.US_PER_DAY, m),
        )
        delivered_us = np.where(cancelled | lost | (delivered_us >= end_us), -1, delivered_us)
        status = np.where(cancelled, STATUS_CANCELLED, np.where(returned, STATUS_RETURNED, STATUS_COMPLETED))
        incident = late | defect | lost | cancelled
        shock = np.where(incident, 0.0, wp.boost_good_order)
        shock = shock + late * (wp.shock_late + wp.shock_late_per_day * np.minimum(days_late, 10))
        shock = shock + defect * wp.shock_defect + (cancelled | lost) * wp.shock_cancel
        sat += np.bincount(cust, weights=shock, minlength=n)
        np.clip(sat, -1.0, 1.0, out=sat)
        n_orders += np.bincount(cust, minlength=n).astype(np.int32)
        last_order[cust] = t
        orders.add(
            cust=cust,
            ordered_us=ordered_us,
            promised_us=promised_us,
            delivered_us=delivered_us,
            status=status.astype(np.int8),
            late=late,
            defect=defect,
            forced=forced,
        )

        # reviews of delivered orders: more likely after an incident; sentiment follows satisfaction now
        fading_c = state == FADING
        p_rev = wp.p_review + wp.p_review_incident * (late | defect | returned)
        rv = np.flatnonzero((delivered_us >= 0) & (u[5] < p_rev))
        if len(rv):
            rc = cust[rv]
            senti = 0.85 * sat[rc] - 0.45 * defect[rv] - 0.30 * late[rv] - 0.15 * returned[rv]
            senti = np.clip(senti + rng.normal(0.0, 0.2, len(rv)), -1.0, 1.0)
            t1 = _primary_topic(rng, late[rv], defect[rv], returned[rv], lost[rv], cancelled[rv], price[rc])
            intent = (fading_c[rc] & (rng.random(len(rv)) < 0.5)) | (
                (senti < -0.5) & (rng.random(len(rv)) < 0.2)
            )
            reviews.add(
                order_row=(order_offset + rv).astype(np.int64),
                created_us=delivered_us[rv] + rng.integers(P.US_PER_DAY, 10 * P.US_PER_DAY, len(rv)),
                sentiment=senti,
                topic1=t1,
                topic2=_secondary_topic(rng, t1, 0.3),
                churn_intent=intent,
            )

        # support tickets: incidents, the odd question, rude support follow-ups, churn-intent goodbyes
        p_tk = np.where(late | defect | lost | returned | cancelled, wp.p_ticket_incident, wp.p_ticket_other)
        p_tk = np.where(lost, 0.8, p_tk)
        tk = np.flatnonzero(rng.random(m) < p_tk)
        tk_at = np.where(
            delivered_us[tk] >= 0,
            delivered_us[tk],
            np.where(late[tk] | lost[tk], promised_us[tk], ordered_us[tk]),
        ) + rng.integers(0, 3 * P.US_PER_DAY, len(tk))
        tk_cust = cust[tk]
        tk_rows = (order_offset + tk).astype(np.int64)
        incident_tk = (late | defect | lost | returned | cancelled)[tk]
        t1 = _primary_topic(rng, late[tk], defect[tk], returned[tk], lost[tk], cancelled[tk], price[tk_cust])
        quiet = ~incident_tk
        t1[quiet] = rng.choice(
            [P.TOPIC[x] for x in ("website_app", "payment", "other", "price_value", "delivery")],
            size=int(quiet.sum()),
            p=[0.3, 0.25, 0.2, 0.15, 0.1],
        )
        senti = np.where(incident_tk, 0.4 * sat[tk_cust] - 0.55, 0.3 * sat[tk_cust] - 0.1)
        senti = np.clip(senti + rng.normal(0, 0.18, len(tk)), -1, 1)
        # rude support: the customer feels it, and often complains about the service itself
        rude = rng.random(len(tk)) < wp.p_rude
        sat += np.bincount(tk_cust[rude], minlength=n) * wp.shock_rude
        fu = rude & (rng.random(len(tk)) < 0.5)
        # churn decisions (after this week's experiences): fading customers may say goodbye
        w_idle = t - np.maximum(last_order, tr.signup_step)
        hz = wp.hazard_base * np.exp(wp.hazard_sat * (wp.sat_mean - sat))
        hz *= (1.0 + wp.hazard_inactive * np.minimum(w_idle / 13.0, 3.0)) * (1.0 + wp.hazard_price * price)
        hz *= np.where(n_orders == 1, wp.hazard_one_order, 1.0)
        fading = state == FADING
        fade_left[fading] -= 1
        gone = fading & (fade_left <= 0)
        state[gone] = CHURNED
        churn_us[gone] = (
            t0 + P.STEP_US + rng.integers(0, P.US_PER_DAY, int(gone.sum()))
        )  # after its last order
        decide = (state == ACTIVE) & signed & (rng.random(n) < hz)
        state[decide] = FADING
        fade_total[decide] = rng.integers(wp.fade_weeks[0], wp.fade_weeks[1], int(decide.sum()))
        fade_left[decide] = fade_total[decide]
        bye = np.flatnonzero(decide & (n_orders > 0) & (rng.random(n) < wp.p_ticket_fade))
        n_fu, n_bye = int(fu.sum()), len(bye)
        intent = np.concatenate(
            [(fading_c[tk_cust] & (rng.random(len(tk)) < 0.4)), np.zeros(n_fu, bool), np.ones(n_bye, bool)]
        )
        bye_topic = rng.choice(
            [P.TOPIC[x] for x in ("delivery", "product_quality", "customer_service", "price_value", "other")],
            size=n_bye,
        ).astype(np.int8)
        tickets.add(
            cust=np.concatenate([tk_cust, tk_cust[fu], bye.astype(np.int32)]),
            order_row=np.concatenate([tk_rows, tk_rows[fu], np.full(n_bye, -1, np.int64)]),
            created_us=np.concatenate(
                [
                    tk_at,
                    tk_at[fu] + rng.integers(P.US_PER_DAY, 3 * P.US_PER_DAY, n_fu),
                    t0 + rng.integers(0, P.STEP_US, n_bye),
                ]
            ),
            sentiment=np.concatenate(
                [
                    senti,
                    np.clip(rng.normal(-0.75, 0.12, n_fu), -1, 1),
                    np.clip(rng.normal(-0.6, 0.2, n_bye), -1, 1),
                ]
            ),
            topic1=np.concatenate([t1, np.full(n_fu, P.TOPIC["customer_service"], np.int8), bye_topic]),
            topic2=np.concatenate(
                [_secondary_topic(rng, t1, 0.15), np.full(n_fu, -1, np.int8), np.full(n_bye, -1, np.int8)]
            ),
            churn_intent=intent,
            channel=rng.choice(3, size=len(tk) + n_fu + n_bye, p=[0.5, 0.35, 0.15]).astype(np.int8),
        )

        # sessions: browse visits decline with satisfaction and during the fade; one session per order
        eng = np.where(state == ACTIVE, 1.0, np.where(state == FADING, 0.2 + 0.6 * fade, 0.03))
        eng = eng * np.exp(0.6 * (sat - wp.sat_mean))
        eng[~signed] = 0.0
        nv = rng.poisson(tr.visit_rate * eng)
        vc = np.flatnonzero(nv)
        sc = np.repeat(vc, nv[vc]).astype(np.int32)
        s_eng = np.minimum(eng[sc], 1.5)
        nb = len(sc)
        all_c = np.concatenate([sc, cust])
        dev = np.where(rng.random(len(all_c)) < 0.8, tr.device[all_c], rng.integers(0, 3, len(all_c)))
        started = np.concatenate(
            [t0 + rng.integers(0, P.STEP_US, nb), ordered_us - rng.integers(60_000_000, 2_400_000_000, m)]
        )
        sessions.add(
            cust=all_c,
            started_us=np.maximum(started, tr.signup_us[all_c]),
            device=dev.astype(np.int8),
            is_login=np.concatenate([rng.random(nb) < 0.3 + 0.4 * s_eng, np.ones(m, bool)]),
            page_views=np.concatenate([1 + rng.poisson(1.5 + 2.0 * s_eng), 3 + rng.poisson(4.0, m)]).astype(
                np.int32
            ),
            cart_adds=np.concatenate([rng.poisson(0.3 * s_eng), 1 + rng.poisson(0.6, m)]).astype(np.int32),
        )
        order_offset += m

    i64, b, i8, i32, f8 = np.int64, np.bool_, np.int8, np.int32, np.float64
    return SimResult(
        orders=orders.frame(
            dict(
                cust=i32,
                ordered_us=i64,
                promised_us=i64,
                delivered_us=i64,
                status=i8,
                late=b,
                defect=b,
                forced=b,
            )
        ),
        reviews=reviews.frame(
            dict(order_row=i64, created_us=i64, sentiment=f8, topic1=i8, topic2=i8, churn_intent=b)
        ),
        tickets=tickets.frame(
            dict(
                cust=i32,
                order_row=i64,
                created_us=i64,
                sentiment=f8,
                topic1=i8,
                topic2=i8,
                churn_intent=b,
                channel=i8,
            )
        ),
        sessions=sessions.frame(
            dict(cust=i32, started_us=i64, device=i8, is_login=b, page_views=i32, cart_adds=i32)
        ),
        interventions=interventions.frame(dict(cust=i32, campaign=np.int16, sent_us=i64, treated=b)),
        sat_final=sat,
        churn_us=churn_us,
    )
