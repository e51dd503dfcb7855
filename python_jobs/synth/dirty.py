"""Plant realistic dirt in raw tables (about 1% of rows per table; recorded nowhere, only detectable).

Kinds: exact duplicate rows, same id with different content, null customer ids, unknown customer ids
(orphans), negative amounts, timestamps in the future (2030+), empty text and very long text (>20k chars).
Truth tables are never dirtied.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

FUTURE_US = 1_893_456_000_000_000  # 2030-01-01 00:00 UTC
LONG_TEXT_CHARS = 20_001
DEFAULT_SHARE = 0.008


@dataclass(frozen=True)
class DirtSpec:
    """Which columns of a table can carry which kind of dirt."""

    customer: str | None = None  # column for null / orphan customer ids
    amount: str | None = None  # column to make negative
    ts: str | None = None  # column to push into the future
    text: str | None = None  # column to empty or blow up
    conflict: str | None = None  # column changed in "same id, different content" duplicates
    nullable_customer: bool = True
    orphans: bool = True


SPECS: dict[str, DirtSpec] = {
    "customers": DirtSpec(customer="customer_id", ts="signup_at", conflict="email", orphans=False),
    "orders": DirtSpec(customer="customer_id", amount="amount", ts="ordered_at", conflict="amount"),
    "order_items": DirtSpec(amount="unit_price", conflict="quantity"),
    "sessions": DirtSpec(customer="customer_id", ts="started_at", conflict="page_views"),
    "coupon_redemptions": DirtSpec(
        customer="customer_id", amount="discount_amount", ts="redeemed_at", conflict="coupon_code"
    ),
    "reviews": DirtSpec(customer="customer_id", ts="created_at", text="body", conflict="rating"),
    "support_tickets": DirtSpec(customer="customer_id", ts="created_at", text="body", conflict="channel"),
    "interventions": DirtSpec(customer="customer_id", conflict="channel", orphans=False),
}


def _kinds(spec: DirtSpec) -> list[str]:
    kinds = ["dup_exact", "dup_conflict"]
    if spec.customer and spec.nullable_customer:
        kinds.append("null_customer")
    if spec.customer and spec.orphans:
        kinds.append("orphan")
    if spec.amount:
        kinds.append("negative_amount")
    if spec.ts:
        kinds.append("future_ts")
    if spec.text:
        kinds += ["empty_text", "long_text"]
    return kinds


def _replace(tbl: pa.Table, col: str, mask: np.ndarray, new: pa.Array) -> pa.Table:
    i = tbl.schema.get_field_index(col)
    old = tbl.column(col).combine_chunks()
    return tbl.set_column(i, col, pc.if_else(pa.array(mask), new.cast(old.type), old))


def _conflict_values(col: pa.Array, rng: np.random.Generator) -> pa.Array:
    t = col.type
    if pa.types.is_floating(t):
        return pc.add(pc.multiply(col, 1.5), 1.0)
    if pa.types.is_integer(t):
        return pc.add(col, pa.scalar(1, t))
    if pa.types.is_string(t):
        return pc.binary_join_element_wise(col, pa.scalar("_X"), "")
    if pa.types.is_timestamp(t):
        return pc.add(col, pa.scalar(86_400_000_000, pa.duration("us")))
    return col


def make_dirty(name: str, tbl: pa.Table, rng: np.random.Generator, share: float = DEFAULT_SHARE) -> pa.Table:
    """Return `tbl` with about `share` of its rows dirty (in-place corruptions plus appended duplicates)."""
    n = tbl.num_rows
    if n == 0:
        return tbl
    spec = SPECS[name]
    kinds = _kinds(spec)
    pick = np.where(rng.random(n) < share, rng.integers(0, len(kinds), n), -1)
    mask = {k: pick == i for i, k in enumerate(kinds)}
    dup_exact = np.flatnonzero(mask["dup_exact"])
    dup_conf = np.flatnonzero(mask["dup_conflict"])
    out = tbl
    if "null_customer" in mask:
        out = _replace(out, spec.customer, mask["null_customer"], pa.nulls(n, pa.string()))
    if "orphan" in mask:
        fake = pc.binary_join_element_wise(
            "C9", pc.cast(pa.array(rng.integers(10**7, 10**8, n)), pa.string()), ""
        )
        out = _replace(out, spec.customer, mask["orphan"], fake)
    if "negative_amount" in mask:
        col = out.column(spec.amount).combine_chunks()
        out = _replace(out, spec.amount, mask["negative_amount"], pc.subtract(pc.negate(col), 1.0))
    if "future_ts" in mask:
        fut = FUTURE_US + rng.integers(0, 3 * 365 * 86_400_000_000, n)
        out = _replace(out, spec.ts, mask["future_ts"], pa.array(fut, type=pa.timestamp("us")))
    if "empty_text" in mask:
        out = _replace(out, spec.text, mask["empty_text"], pa.array([""] * n, pa.string()))
    if "long_text" in mask:
        rows = np.flatnonzero(mask["long_text"])
        col = out.column(spec.text).combine_chunks()
        longs = [
            ((s or "x") + " ") * (LONG_TEXT_CHARS // (len(s or "x") + 1) + 1)
            for s in col.take(rows).to_pylist()
        ]
        full = np.full(n, None, dtype=object)
        full[rows] = longs
        out = _replace(out, spec.text, mask["long_text"], pa.array(full, pa.string()))
    extra = [tbl.take(pa.array(dup_exact))]
    if len(dup_conf):
        conf = tbl.take(pa.array(dup_conf))
        i = conf.schema.get_field_index(spec.conflict)
        conf = conf.set_column(i, spec.conflict, _conflict_values(conf.column(i).combine_chunks(), rng))
        extra.append(conf)
    return pa.concat_tables([out, *extra])
