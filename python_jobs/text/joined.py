"""The text a model reads from a review or ticket row: title/subject and body joined by a newline."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc


def joined_text(table: pa.Table, head: str, body: str) -> list[str]:
    """`head` and `body` joined by a newline, either may be null or absent."""

    def col(name: str) -> pa.ChunkedArray:
        if name in table.column_names:
            return pc.fill_null(table[name].cast(pa.string()), "")
        return pa.chunked_array([pa.array([""] * table.num_rows, pa.string())])

    joined = pc.binary_join_element_wise(col(head), col(body), "\n")
    return [t.strip() for t in joined.to_pylist()]
