"""Build result tables from parts: lists of strings and float arrays, NaN meaning null."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = ["table_from_parts"]


def table_from_parts(parts: list[dict], schema: pa.Schema, *, order: np.ndarray | None = None) -> pa.Table:
    """Concatenate column parts (dicts of lists or float arrays) into a table of ``schema``.

    List columns are taken as they are; numeric columns become float arrays whose NaNs
    are written as nulls (a value that does not apply). ``order`` reorders the rows.
    """
    parts = [p for p in parts if p]
    if not parts:
        return schema.empty_table()
    arrays = {}
    for field in schema:
        vals = [p[field.name] for p in parts]
        if isinstance(vals[0], list):
            col = sum((list(v) for v in vals), [])
            arrays[field.name] = pa.array(col if order is None else [col[i] for i in order], type=field.type)
        else:
            x = np.concatenate([np.asarray(v, dtype=float) for v in vals])
            x = x if order is None else x[order]
            arrays[field.name] = pa.array(x, type=field.type, mask=np.isnan(x))
    return pa.table(arrays, schema=schema)
