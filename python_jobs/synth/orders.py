"""Order, order-item and coupon-redemption tables from simulated order events (vectorised)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from python_jobs.synth import params as P
from python_jobs.synth.simulate import SimResult
from python_jobs.synth.world import Traits
from python_jobs.synth.writer import ids, labels, ts

STATUSES = ("completed", "cancelled", "returned")
N_PRODUCTS_PER_CATEGORY = 5_000


def status_change_times(o: dict[str, np.ndarray], order_base: int) -> tuple[np.ndarray, np.ndarray]:
    """When each cancellation and return happened (-1 = never): cancellations within 3 days of the order,
    returns 2-30 days after delivery (or after the promised date when the delivery is not recorded).
    A separate stream (seeded by the chunk) leaves every other draw of the world unchanged."""
    rng = np.random.default_rng([order_base, 20261130])
    m = len(o["ordered_us"])
    day = P.US_PER_DAY
    cancelled = o["status"] == STATUSES.index("cancelled")
    returned = o["status"] == STATUSES.index("returned")
    cancelled_us = o["ordered_us"] + rng.integers(day // 24, 3 * day, m)
    received = np.where(o["delivered_us"] >= 0, o["delivered_us"], o["promised_us"])
    returned_us = received + rng.integers(2 * day, 30 * day, m)
    return np.where(cancelled, cancelled_us, -1), np.where(returned, returned_us, -1)


def build_orders(
    rng: np.random.Generator,
    res: SimResult,
    tr: Traits,
    cust_ids: pa.Array,
    order_base: int,
    item_base: int,
    red_base: int,
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Items drive the order amount: gross = sum(quantity x unit_price); coupons (more likely for
    price-sensitive customers) take a percentage off; amount = gross - discount."""
    o = res.orders
    m = len(o["cust"])
    cust = o["cust"]
    order_ids = ids("O", order_base + np.arange(m))
    # items
    n_items = 1 + np.minimum(rng.poisson(0.7, m), 5)
    item_order = np.repeat(np.arange(m), n_items)
    k = len(item_order)
    cat = rng.choice(len(P.CATEGORIES), size=k, p=P.CATEGORY_P)
    qty = rng.choice([1, 2, 3], size=k, p=[0.8, 0.15, 0.05]).astype(np.int32)
    unit = tr.latent_value[cust[item_order]] / 1.7 * rng.lognormal(0.0, 0.4, k)
    unit = np.round(np.maximum(unit, 0.99), 2)
    product = cat * N_PRODUCTS_PER_CATEGORY + np.minimum(rng.zipf(1.6, k), N_PRODUCTS_PER_CATEGORY) - 1
    gross = np.bincount(item_order, weights=qty * unit, minlength=m)
    # coupons
    price = tr.price_sensitivity[cust]
    coupon = rng.random(m) < 0.03 + 0.40 * price**1.5
    code = rng.integers(0, len(P.COUPONS), m)
    discount = np.where(coupon, np.round(gross * P.COUPON_PCT[code], 2), 0.0)
    amount = np.round(gross - discount, 2)
    cancelled_us, returned_us = status_change_times(o, order_base)
    orders = pa.table(
        {
            "order_id": order_ids,
            "customer_id": cust_ids.take(pa.array(cust)),
            "ordered_at": ts(o["ordered_us"]),
            "status": labels(STATUSES, o["status"]),
            "amount": amount,
            "discount_amount": discount,
            "promised_delivery_at": ts(o["promised_us"]),
            "delivered_at": ts(o["delivered_us"]),
            "cancelled_at": ts(cancelled_us),
            "returned_at": ts(returned_us),
        }
    )
    items = pa.table(
        {
            "order_item_id": ids("I", item_base + np.arange(k)),
            "order_id": order_ids.take(pa.array(item_order)),
            "product_id": ids("P", product),
            "category": labels(P.CATEGORIES, cat),
            "quantity": qty,
            "unit_price": unit,
        }
    )
    rc = np.flatnonzero(coupon)
    coupons = pa.table(
        {
            "redemption_id": ids("R", red_base + np.arange(len(rc))),
            "customer_id": cust_ids.take(pa.array(cust[rc])),
            "order_id": order_ids.take(pa.array(rc)),
            "redeemed_at": ts(o["ordered_us"][rc]),
            "coupon_code": labels(P.COUPONS, code[rc]),
            "discount_amount": discount[rc],
        }
    )
    return orders, items, coupons
