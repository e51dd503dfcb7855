"""Planted PII for the end-to-end build (conftest.e2e_world) and the needles test_pii looks for."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

SOURCES_YAML = Path(__file__).resolve().parents[2] / "models/staging/synthetic/_synthetic__sources.yml"

# Every free-text column of the raw contract. Each gets its own e-mail so a leak names its column.
TEXT_COLUMNS = {
    "reviews": ("title", "body"),
    "support_tickets": ("subject", "body"),
}
# Direct identifiers: replaced by a planted value in every row.
IDENTIFIER_COLUMNS = {"customers": ("email",)}
# varchar contract columns that are not free text (ids, codes, enums). A new varchar column in the contract
# must be added to one of these three maps, so a new text column cannot escape the PII test.
NOT_TEXT = {
    "customer_id",
    "order_id",
    "order_item_id",
    "product_id",
    "session_id",
    "redemption_id",
    "review_id",
    "ticket_id",
    "intervention_id",
    "campaign_id",
    "country",
    "acquisition_channel",
    "status",
    "category",
    "device",
    "coupon_code",
    "language",
    "channel",
    "action",
    "arm",
}

PHONE = "+1 (415) 555-0142"
CARD = "4111 1111 1111 1111"
PLANTED_ROWS = 40  # per text column


def planted_email(table: str, column: str) -> str:
    return f"jane.{table}.{column}@pii-leak.example"


def needles() -> list[str]:
    """Substrings that must not appear anywhere downstream of the raw files."""
    return [
        "pii-leak.example",  # every planted text e-mail
        "customer-pii.example",  # every planted customers.email
        "555-0142",
        "5550142",
        "4111 1111",
        "4111111111111111",
        "4111-1111",
    ]


def varchar_contract_columns() -> dict[str, list[str]]:
    spec = yaml.safe_load(SOURCES_YAML.read_text())
    (source,) = spec["sources"]
    return {
        t["name"]: [c["name"] for c in t["columns"] if c.get("data_type") == "varchar"]
        for t in source["tables"]
    }


def _replace(table: pa.Table, column: str, values: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(column), column, values)


def plant_pii(raw: Path) -> None:
    """Append an e-mail, a phone number and a card number to the first rows of every raw text column, and
    give every customer a planted e-mail address."""
    for name, cols in TEXT_COLUMNS.items():
        table = pq.read_table(raw / f"{name}.parquet")
        for col in cols:
            values = table.column(col).to_pylist()
            pii = f" write to {planted_email(name, col)} or call {PHONE}; card {CARD}"
            for i in range(min(PLANTED_ROWS, len(values))):
                values[i] = (values[i] or "") + pii
            table = _replace(table, col, pa.array(values, pa.string()))
        pq.write_table(table, raw / f"{name}.parquet")
    customers = pq.read_table(raw / "customers.parquet")
    emails = pc.binary_join_element_wise(
        pc.cast(customers.column("customer_id"), pa.string()), "customer-pii.example", "@"
    )
    pq.write_table(_replace(customers, "email", emails), raw / "customers.parquet")
