"""Table equality across engines: the same rows and values, floats within a stated tolerance.

Rows are matched by sorting both sides on every compared column (tables are sets: no engine promises an order).
Types are normalised first (integer widths, decimal vs float, timestamp units, arrays as tuples), because the
engines name the same values differently; what must agree is the values.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa

RTOL = 1e-9  # relative tolerance on floats: summation order and libm differences stay far below it
ATOL = 1e-9


def _frame(table: pa.Table, columns: list[str]) -> pd.DataFrame:
    frame = table.select(columns).to_pandas()
    for name in columns:
        col = frame[name]
        kind = table.schema.field(name).type
        if pa.types.is_list(kind) or pa.types.is_fixed_size_list(kind) or pa.types.is_large_list(kind):
            frame[name] = col.map(lambda v: None if v is None else tuple(np.asarray(v).tolist()))
        elif pa.types.is_decimal(kind) or pa.types.is_integer(kind) or pa.types.is_floating(kind):
            frame[name] = col.astype("float64")
        elif pa.types.is_timestamp(kind) or pa.types.is_date(kind):
            frame[name] = pd.to_datetime(col)
    return frame


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in one canonical order: by every column's text (keys come first in every table, so float text only
    orders rows that already tie on them)."""
    order = frame.astype(str).sort_values(list(frame.columns), kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def _text(col: pd.Series) -> np.ndarray:
    """Values as text, every kind of missing value as one marker."""
    return col.astype(str).mask(col.isna(), "<null>").to_numpy()


def table_differences(
    left: pa.Table, right: pa.Table, ignore: Iterable[str] = (), rtol: float = RTOL, atol: float = ATOL
) -> list[str]:
    """Human-readable differences between two tables (empty when equal)."""
    ignored = set(ignore)
    lcols = [c for c in left.column_names if c not in ignored]
    rcols = [c for c in right.column_names if c not in ignored]
    problems = []
    if sorted(lcols) != sorted(rcols):
        problems.append(
            f"columns differ: only left {sorted(set(lcols) - set(rcols))}, "
            f"only right {sorted(set(rcols) - set(lcols))}"
        )
    columns = [c for c in lcols if c in rcols]
    if left.num_rows != right.num_rows:
        return [*problems, f"rows differ: {left.num_rows:,} vs {right.num_rows:,}"]
    lf, rf = _sorted(_frame(left, columns)), _sorted(_frame(right, columns))
    for name in columns:
        a, b = lf[name], rf[name]
        if pd.api.types.is_float_dtype(a) and pd.api.types.is_float_dtype(b):
            same = np.isclose(a.to_numpy(), b.to_numpy(), rtol=rtol, atol=atol, equal_nan=True)
        else:
            same = _text(a) == _text(b)
        if not same.all():
            i = int(np.argmin(same))
            problems.append(
                f"{name}: {int((~same).sum()):,} of {len(a):,} values differ (e.g. {a.tolist()[i]!r} vs {b.tolist()[i]!r})"
            )
    return problems
