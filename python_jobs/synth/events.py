"""One week of events for the customers of a block: orders with incidents, reviews, support tickets and
sessions. Pure functions over arrays (no state); `simulate.py` owns the state and the weekly loop."""

from __future__ import annotations

import numpy as np

from python_jobs.synth import params as P
from python_jobs.synth.campaigns import WINBACK_DAYS

STATUS_COMPLETED, STATUS_CANCELLED, STATUS_RETURNED = 0, 1, 2
QUIET_TOPICS = [P.TOPIC[x] for x in ("website_app", "payment", "other", "price_value", "delivery")]
BYE_TOPICS = [P.TOPIC[x] for x in ("delivery", "product_quality", "customer_service", "price_value", "other")]
BASE_TOPICS = [
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
]
BASE_TOPIC_P = [0.30, 0.18, 0.20, 0.08, 0.10, 0.05, 0.03, 0.06]


def primary_topic(
    rng: np.random.Generator, o: dict[str, np.ndarray], rows: np.ndarray, price: np.ndarray
) -> np.ndarray:
    """Main topic of a text about order `rows`: the incident if there was one, else a common theme
    (price for price-sensitive customers)."""
    m = len(rows)
    late, defect, returned = o["late"][rows], o["defect"][rows], o["returned"][rows]
    lost, cancelled = o["lost"][rows], o["cancelled"][rows]
    base = rng.choice(BASE_TOPICS, size=m, p=BASE_TOPIC_P).astype(np.int8)
    base[rng.random(m) < 0.35 * price] = P.TOPIC["price_value"]
    u = rng.random(m)
    base[late | lost] = P.TOPIC["delivery"]
    base[returned] = np.where(u[returned] < 0.5, P.TOPIC["size_fit"], P.TOPIC["returns_refunds"])
    base[defect] = np.where(u[defect] < 0.7, P.TOPIC["product_quality"], P.TOPIC["packaging"])
    base[cancelled] = np.where(u[cancelled] < 0.5, P.TOPIC["payment"], P.TOPIC["returns_refunds"])
    return base


def secondary_topic(rng: np.random.Generator, first: np.ndarray, p: float) -> np.ndarray:
    """A different second topic with probability p (mixed-signal texts), else -1."""
    m = len(first)
    second = rng.integers(0, len(P.TOPICS) - 1, m).astype(np.int8)
    second = np.where(second >= first, second + 1, second).astype(np.int8)
    return np.where(rng.random(m) < p, second, -1).astype(np.int8)


def orders_week(
    rng: np.random.Generator,
    t0: int,
    cust: np.ndarray,
    forced: np.ndarray,
    signup_us: np.ndarray,
    end_us: int,
    wp: P.WorldParams,
) -> dict[str, np.ndarray]:
    """Orders placed this week by `cust` (one entry per order) with their service incidents.
    Campaign win-back orders (`forced`) go smoothly."""
    m = len(cust)
    ordered_us = t0 + rng.integers(0, P.STEP_US, m)
    # win-back orders fall in the first WINBACK_DAYS of the week (inside the campaign's 90-day window)
    ordered_us = np.where(forced, t0 + (ordered_us - t0) * WINBACK_DAYS // P.STEP_DAYS, ordered_us)
    su = signup_us[cust]
    ordered_us = np.where(ordered_us < su, su + rng.integers(600_000_000, P.US_PER_DAY, m), ordered_us)
    keep = ordered_us < end_us
    cust, ordered_us, forced, m = cust[keep], ordered_us[keep], forced[keep], int(keep.sum())
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
    return {
        "cust": cust,
        "ordered_us": ordered_us,
        "promised_us": promised_us,
        "delivered_us": delivered_us,
        "status": status.astype(np.int8),
        "late": late,
        "defect": defect,
        "forced": forced,
        "lost": lost,
        "cancelled": cancelled,
        "returned": returned,
        "shock": shock,
        "u_review": u[5],
    }


def reviews_week(
    rng: np.random.Generator,
    o: dict[str, np.ndarray],
    sat: np.ndarray,
    fading: np.ndarray,
    abrupt: np.ndarray,
    price: np.ndarray,
    order_offset: int,
    wp: P.WorldParams,
) -> dict[str, np.ndarray] | None:
    """Reviews of delivered orders: likelier after an incident or from an abrupt leaver in the notice period
    (who is also harsher); sentiment follows satisfaction now (before purchase frequency, which follows a
    lagged satisfaction, has moved)."""
    late, defect, returned = o["late"], o["defect"], o["returned"]
    quits = abrupt[o["cust"]]
    p_rev = wp.p_review + wp.p_review_incident * (late | defect | returned) + wp.p_review_abrupt * quits
    rv = np.flatnonzero((o["delivered_us"] >= 0) & (o["u_review"] < p_rev))
    if not len(rv):
        return None
    rc = o["cust"][rv]
    senti = 0.85 * sat[rc] - 0.45 * defect[rv] - 0.30 * late[rv] - 0.15 * returned[rv]
    senti = senti + wp.senti_abrupt * quits[rv]
    senti = np.clip(senti + rng.normal(0.0, 0.2, len(rv)), -1.0, 1.0)
    t1 = primary_topic(rng, o, rv, price[rc])
    intent = (fading[rc] & (rng.random(len(rv)) < 0.5)) | ((senti < -0.5) & (rng.random(len(rv)) < 0.2))
    return {
        "order_row": (order_offset + rv).astype(np.int64),
        "created_us": o["delivered_us"][rv] + rng.integers(P.US_PER_DAY, 10 * P.US_PER_DAY, len(rv)),
        "sentiment": senti,
        "topic1": t1,
        "topic2": secondary_topic(rng, t1, 0.3),
        "churn_intent": intent,
    }


def order_tickets_week(
    rng: np.random.Generator,
    o: dict[str, np.ndarray],
    sat: np.ndarray,
    price: np.ndarray,
    order_offset: int,
    wp: P.WorldParams,
) -> dict[str, np.ndarray]:
    """Tickets about this week's orders (incidents, the odd question) and which of them met rude support."""
    incident = o["late"] | o["defect"] | o["lost"] | o["returned"] | o["cancelled"]
    p_tk = np.where(o["lost"], 0.8, np.where(incident, wp.p_ticket_incident, wp.p_ticket_other))
    tk = np.flatnonzero(rng.random(len(p_tk)) < p_tk)
    d = o["delivered_us"][tk]
    at = np.where(
        d >= 0, d, np.where(o["late"][tk] | o["lost"][tk], o["promised_us"][tk], o["ordered_us"][tk])
    )
    at = at + rng.integers(0, 3 * P.US_PER_DAY, len(tk))
    cust = o["cust"][tk]
    t1 = primary_topic(rng, o, tk, price[cust])
    quiet = ~incident[tk]
    t1[quiet] = rng.choice(QUIET_TOPICS, size=int(quiet.sum()), p=[0.3, 0.25, 0.2, 0.15, 0.1])
    senti = np.where(incident[tk], 0.4 * sat[cust] - 0.55, 0.3 * sat[cust] - 0.1)
    senti = np.clip(senti + rng.normal(0, 0.18, len(tk)), -1, 1)
    rude = rng.random(len(tk)) < wp.p_rude
    follow_up = rude & (rng.random(len(tk)) < 0.5)
    return {
        "cust": cust,
        "rows": (order_offset + tk).astype(np.int64),
        "at": at,
        "topic1": t1,
        "sentiment": senti,
        "rude": rude,
        "follow_up": follow_up,
    }


def tickets_week(
    rng: np.random.Generator, tk: dict[str, np.ndarray], bye: np.ndarray, fading: np.ndarray, t0: int
) -> dict[str, np.ndarray]:
    """All tickets of the week: order tickets, complaints about rude support, churn-intent goodbyes."""
    cust, rows, at, t1, fu = tk["cust"], tk["rows"], tk["at"], tk["topic1"], tk["follow_up"]
    n_tk, n_fu, n_bye = len(cust), int(fu.sum()), len(bye)
    intent = np.concatenate(
        [fading[cust] & (rng.random(n_tk) < 0.4), np.zeros(n_fu, bool), np.ones(n_bye, bool)]
    )
    bye_topic = rng.choice(BYE_TOPICS, size=n_bye).astype(np.int8)
    return {
        "cust": np.concatenate([cust, cust[fu], bye.astype(np.int32)]),
        "order_row": np.concatenate([rows, rows[fu], np.full(n_bye, -1, np.int64)]),
        "created_us": np.concatenate(
            [
                at,
                at[fu] + rng.integers(P.US_PER_DAY, 3 * P.US_PER_DAY, n_fu),
                t0 + rng.integers(0, P.STEP_US, n_bye),
            ]
        ),
        "sentiment": np.concatenate(
            [
                tk["sentiment"],
                np.clip(rng.normal(-0.75, 0.12, n_fu), -1, 1),
                np.clip(rng.normal(-0.6, 0.2, n_bye), -1, 1),
            ]
        ),
        "topic1": np.concatenate([t1, np.full(n_fu, P.TOPIC["customer_service"], np.int8), bye_topic]),
        "topic2": np.concatenate([secondary_topic(rng, t1, 0.15), np.full(n_fu + n_bye, -1, np.int8)]),
        "churn_intent": intent,
        "channel": rng.choice(3, size=n_tk + n_fu + n_bye, p=[0.5, 0.35, 0.15]).astype(np.int8),
    }


def sessions_week(
    rng: np.random.Generator,
    t0: int,
    eng: np.ndarray,
    visit_rate: np.ndarray,
    device: np.ndarray,
    signup_us: np.ndarray,
    o: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """Browse sessions (Poisson in engagement: fewer logins, pages and cart adds as a customer fades)
    plus one purchase session just before each order."""
    nv = rng.poisson(visit_rate * eng)
    vc = np.flatnonzero(nv)
    sc = np.repeat(vc, nv[vc]).astype(np.int32)
    s_eng = np.minimum(eng[sc], 1.5)
    nb, m = len(sc), len(o["cust"])
    all_c = np.concatenate([sc, o["cust"]])
    dev = np.where(rng.random(len(all_c)) < 0.8, device[all_c], rng.integers(0, 3, len(all_c)))
    started = np.concatenate(
        [t0 + rng.integers(0, P.STEP_US, nb), o["ordered_us"] - rng.integers(60_000_000, 2_400_000_000, m)]
    )
    return {
        "cust": all_c,
        "started_us": np.maximum(started, signup_us[all_c]),
        "device": dev.astype(np.int8),
        "is_login": np.concatenate([rng.random(nb) < 0.3 + 0.4 * s_eng, np.ones(m, bool)]),
        "page_views": np.concatenate([1 + rng.poisson(1.5 + 2.0 * s_eng), 3 + rng.poisson(4.0, m)]).astype(
            np.int32
        ),
        "cart_adds": np.concatenate([rng.poisson(0.3 * s_eng), 1 + rng.poisson(0.6, m)]).astype(np.int32),
    }
