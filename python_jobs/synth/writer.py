"""Arrow schemas of the raw contract and truth tables, id formatting, and chunked Parquet writing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

TS = pa.timestamp("us")
S = pa.string()

SCHEMAS: dict[str, pa.Schema] = {
    "customers": pa.schema(
        [("customer_id", S), ("signup_at", TS), ("country", S), ("acquisition_channel", S), ("email", S)]
    ),
    "orders": pa.schema(
        [
            ("order_id", S),
            ("customer_id", S),
            ("ordered_at", TS),
            ("status", S),
            ("amount", pa.float64()),
            ("discount_amount", pa.float64()),
            ("promised_delivery_at", TS),
            ("delivered_at", TS),
            ("cancelled_at", TS),
            ("returned_at", TS),
        ]
    ),
    "order_items": pa.schema(
        [
            ("order_item_id", S),
            ("order_id", S),
            ("product_id", S),
            ("category", S),
            ("quantity", pa.int32()),
            ("unit_price", pa.float64()),
        ]
    ),
    "sessions": pa.schema(
        [
            ("session_id", S),
            ("customer_id", S),
            ("started_at", TS),
            ("device", S),
            ("is_login", pa.bool_()),
            ("page_views", pa.int32()),
            ("cart_adds", pa.int32()),
        ]
    ),
    "coupon_redemptions": pa.schema(
        [
            ("redemption_id", S),
            ("customer_id", S),
            ("order_id", S),
            ("redeemed_at", TS),
            ("coupon_code", S),
            ("discount_amount", pa.float64()),
        ]
    ),
    "reviews": pa.schema(
        [
            ("review_id", S),
            ("customer_id", S),
            ("order_id", S),
            ("created_at", TS),
            ("rating", pa.int32()),
            ("title", S),
            ("body", S),
            ("language", S),
        ]
    ),
    "support_tickets": pa.schema(
        [
            ("ticket_id", S),
            ("customer_id", S),
            ("order_id", S),
            ("created_at", TS),
            ("channel", S),
            ("subject", S),
            ("body", S),
            ("language", S),
        ]
    ),
    "interventions": pa.schema(
        [
            ("intervention_id", S),
            ("customer_id", S),
            ("campaign_id", S),
            ("sent_at", TS),
            ("action", S),
            ("channel", S),
            ("arm", S),
            ("unit_cost", pa.float64()),
        ]
    ),
    "truth_customers": pa.schema(
        [
            ("customer_id", S),
            ("latent_value", pa.float64()),
            ("price_sensitivity", pa.float64()),
            ("satisfaction_final", pa.float64()),
            ("churned_at", TS),
            ("archetype", S),
        ]
    ),
    "truth_texts": pa.schema(
        [
            ("source", S),
            ("source_id", S),
            ("sentiment", pa.float64()),
            ("sentiment_label", S),
            ("topics", S),
            ("churn_intent", pa.bool_()),
            ("language", S),
        ]
    ),
    "truth_campaigns": pa.schema(
        [("campaign_id", S), ("action", S), ("started_at", TS), ("planted_effect", pa.float64())]
    ),
}
RAW_TABLES = (
    "customers",
    "orders",
    "order_items",
    "sessions",
    "coupon_redemptions",
    "reviews",
    "support_tickets",
    "interventions",
)
TRUTH_TABLES = ("truth_customers", "truth_texts", "truth_campaigns")
ID_WIDTH = {"C": 8}


def ids(prefix: str, nums: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """'C00000042'-style string ids, built in Arrow (no Python loop). `mask` marks nulls."""
    width = ID_WIDTH.get(prefix, 10)
    s = pc.utf8_lpad(pc.cast(pa.array(np.asarray(nums, dtype=np.int64)), S), width, "0")
    out = pc.binary_join_element_wise(prefix, s, "")
    if mask is not None and mask.any():
        out = pc.if_else(pa.array(~mask), out, pa.nulls(len(out), S))
    return out


def ts(us: np.ndarray) -> pa.Array:
    """Microsecond timestamps; negative values mean null."""
    us = np.asarray(us, dtype=np.int64)
    return pa.array(us, type=TS, mask=us < 0)


def labels(names: tuple[str, ...] | list[str], codes: np.ndarray) -> pa.Array:
    return pc.take(pa.array(list(names), S), pa.array(np.asarray(codes, dtype=np.int64)))


class TableWriters:
    """One ParquetWriter per table (`<out>/<table>.parquet`), opened lazily, each block a row group."""

    def __init__(self, out_dir: Path, compression: str = "zstd") -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.compression = compression
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.rows: dict[str, int] = {}

    def write(self, name: str, table: pa.Table) -> None:
        schema = SCHEMAS[name]
        table = table.select(schema.names).cast(schema)
        if name not in self.writers:
            tmp = self.out_dir / f".{name}.parquet.tmp"
            self.writers[name] = pq.ParquetWriter(tmp, schema, compression=self.compression)
            self.rows[name] = 0
        self.writers[name].write_table(table, row_group_size=1_048_576)
        self.rows[name] += table.num_rows

    def abort(self) -> None:
        """Close and delete every partial file (a failed run leaves the previous world untouched)."""
        for name, w in self.writers.items():
            w.close()
            (self.out_dir / f".{name}.parquet.tmp").unlink(missing_ok=True)
        self.writers.clear()

    def close(self) -> dict[str, int]:
        """Close every writer and move files into place (readers never see a half-written file)."""
        for name, w in self.writers.items():
            w.close()
            (self.out_dir / f".{name}.parquet.tmp").replace(self.out_dir / f"{name}.parquet")
        return dict(self.rows)
