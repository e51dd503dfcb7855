"""Tunable constants of the synthetic shop world, in one place (weekly time steps)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from python_jobs.taxonomy import topic_keys

STEP_DAYS = 7
US_PER_DAY = 86_400_000_000
STEP_US = STEP_DAYS * US_PER_DAY

ARCHETYPES = ("loyal", "regular", "bargain_hunter", "occasional", "one_and_done")
# Calibrated against Online Retail I (python_jobs/synth/calibration.py, docs/SYNTHETIC_WORLD.md): most buyers order
# every one to three months, a third never come back, so recency alone does not settle who churns.
ARCHETYPE_P = (0.16, 0.29, 0.10, 0.11, 0.34)
# Mean orders per week while active, and a multiplier on the spend level.
ARCHETYPE_RATE = np.array([0.20, 0.11, 0.08, 0.035, 0.006])
ARCHETYPE_VALUE = np.array([1.3, 1.0, 0.7, 0.9, 1.0])
ARCHETYPE_SAT = np.array([0.20, 0.05, 0.0, -0.05, -0.15])

# Country -> text language (en, zh, pt); weights give roughly 70/25/5 texts.
COUNTRIES = ("US", "GB", "DE", "FR", "CA", "AU", "NL", "IE", "CN", "TW", "HK", "SG", "BR", "PT")
COUNTRY_P = (0.27, 0.15, 0.08, 0.05, 0.05, 0.05, 0.03, 0.02, 0.18, 0.03, 0.02, 0.02, 0.04, 0.01)
LANGUAGES = ("en", "zh", "pt")
COUNTRY_LANG = np.array([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2], dtype=np.int8)

CHANNELS = ("organic", "paid_search", "social", "referral", "email")
CHANNEL_P = (0.35, 0.25, 0.15, 0.10, 0.15)
DEVICES = ("web", "ios", "android")
DEVICE_P = (0.45, 0.30, 0.25)

# Text topics: the keys of seeds/topic_taxonomy.csv (shared with the enrichment layer).
TOPICS = topic_keys()
TOPIC = {name: i for i, name in enumerate(TOPICS)}

CATEGORIES = ("apparel", "shoes", "electronics", "home", "beauty", "toys", "sports", "books", "grocery")
CATEGORY_P = (0.22, 0.10, 0.12, 0.15, 0.12, 0.07, 0.08, 0.07, 0.07)

# Retention campaign playbook: action -> (channel, unit cost per treated customer).
ACTIONS = {
    "service_recovery_call": ("phone", 6.0),
    "delivery_voucher": ("email", 3.0),
    "discount_10": ("email", 4.5),
    "personal_recommendation": ("app_push", 0.2),
    "loyalty_perk": ("email", 2.0),
}

COUPONS = ("WELCOME10", "SPRING15", "SUMMER20", "VIP5", "FREESHIP", "BLACKFRIDAY25", "COMEBACK10")
COUPON_PCT = np.array([0.10, 0.15, 0.20, 0.05, 0.07, 0.25, 0.10])


@dataclass(frozen=True)
class WorldParams:
    """Behavioural knobs. Defaults are tuned so the statistics land in the ranges stated in synth.__init__."""

    # satisfaction dynamics (satisfaction lives in [-1, 1])
    sat_mean: float = 0.45
    sat_sd: float = 0.22
    sat_reversion: float = 0.05  # per week, toward the customer's baseline
    sat_slow_rate: float = 0.03  # how fast purchase behaviour catches up with satisfaction (lag)
    shock_late: float = -0.12
    shock_late_per_day: float = -0.02
    shock_defect: float = -0.30
    shock_rude: float = -0.25
    shock_cancel: float = -0.08
    boost_good_order: float = 0.02
    # incidents
    p_late: float = 0.08
    p_defect: float = 0.04
    p_cancel: float = 0.03
    p_return: float = 0.05
    p_lost: float = 0.004
    p_rude: float = 0.10
    # churn hazard per week
    hazard_base: float = 0.0015
    hazard_sat: float = 6.0  # dissatisfaction (shown in text at once) drives churn more than inactivity
    hazard_inactive: float = 0.1
    hazard_price: float = 0.5
    hazard_one_order: float = 1.5  # new customers after their first order are the most fragile
    fade_weeks: tuple[int, int] = (4, 13)
    # Abrupt leavers ("complain, then go"): a share of churn decisions keeps buying, visiting and adding to
    # cart as before until it leaves, after a short notice (abrupt_notice_weeks, slowing only in its last
    # abrupt_tail_weeks); their dissatisfaction shows in text instead (below). Dissatisfied deciders
    # (satisfaction < abrupt_sat_below) are likelier to leave this way, and purchase rates follow satisfaction
    # only slowly (sat_slow_rate), so words carry signal behaviour lacks.
    p_abrupt: float = 0.70
    p_abrupt_dissat: float = 0.95
    abrupt_sat_below: float = 0.25
    abrupt_tail_weeks: int = 2
    abrupt_notice_weeks: tuple[int, int] = (1, 3)  # abrupt leavers stop within 1-2 weeks of deciding
    p_winback: float = 0.0005
    # purchase behaviour
    rate_sat: float = 1.2
    first_order_boost: float = 0.6
    p_never_buy: float = 0.12
    # sessions
    visit_rate: float = 0.35
    # texts
    p_review: float = 0.20
    p_review_incident: float = 0.35
    p_ticket_incident: float = 0.60
    p_ticket_other: float = 0.02
    p_ticket_fade: float = 0.50
    # abrupt leavers in their notice period: a goodbye / complaint ticket when they decide, extra (and
    # more negative) reviews of the orders they keep placing
    p_ticket_abrupt: float = 0.90
    p_review_abrupt: float = 0.50
    senti_abrupt: float = -0.30
    # campaigns
    campaign_days: tuple[int, ...] = (380, 440, 500, 560, 620)
    planted_effects: tuple[float, ...] = field(default=(0.06, 0.04, 0.08, 0.05, 0.10))
    treatment_shares: tuple[float, ...] = field(default=(0.5, 0.8, 0.5, 0.8, 0.5))
