"""WTA instance and solution files for ``hoplon wta``.

INSTANCE.json: ``{"values": [T numbers], "pk": [W rows of T numbers]}`` (other keys are
ignored): target values V_j >= 0 and kill probabilities p_ij in [0, 1]; every weapon unit
is assigned to exactly one target.

SOLUTION.json: ``{"assignment": [target index per weapon], "objective": expected surviving
value, "lower_bound": certified bound or null, "gap": relative gap or null, "status":
"optimal" | "feasible" | "time_limit", "solve_time_s": seconds, "method": ...}``.

Every problem in an instance names the file, the line and the field (``pk[3][7]``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from hoplon.core.wta import WTASolution
from hoplon.errors import InputError, Problem
from hoplon.io.run_files import write_json
from hoplon.io.tracking_files import _read_text

__all__ = ["read_wta_instance", "write_wta_solution"]


class _Located:
    """Minimal JSON reader that remembers the line of every array element and key."""

    def __init__(self, text: str):
        self.text = text
        self.decoder = json.JSONDecoder()
        self.lines: dict[str, int] = {}

    def line_of(self, pos: int) -> int:
        return self.text.count("\n", 0, pos) + 1

    def skip(self, pos: int) -> int:
        while pos < len(self.text) and self.text[pos] in " \t\r\n":
            pos += 1
        return pos

    def value(self, pos: int, path: str):
        pos = self.skip(pos)
        self.lines[path] = self.line_of(pos)
        if pos < len(self.text) and self.text[pos] == "[":
            items, pos = [], self.skip(pos + 1)
            if self.text.startswith("]", pos):
                return items, pos + 1
            while True:
                item, pos = self.value(pos, f"{path}[{len(items)}]")
                items.append(item)
                pos = self.skip(pos)
                if self.text.startswith(",", pos):
                    pos += 1
                elif self.text.startswith("]", pos):
                    return items, pos + 1
                else:
                    raise json.JSONDecodeError("expected ',' or ']'", self.text, pos)
        if pos < len(self.text) and self.text[pos] == "{":
            obj, pos = {}, self.skip(pos + 1)
            if self.text.startswith("}", pos):
                return obj, pos + 1
            while True:
                pos = self.skip(pos)
                key, pos = self.decoder.raw_decode(self.text, pos)
                if not isinstance(key, str):
                    raise json.JSONDecodeError("expected a string key", self.text, pos)
                pos = self.skip(pos)
                if not self.text.startswith(":", pos):
                    raise json.JSONDecodeError("expected ':'", self.text, pos)
                obj[key], pos = self.value(pos + 1, key if not path else f"{path}.{key}")
                pos = self.skip(pos)
                if self.text.startswith(",", pos):
                    pos += 1
                elif self.text.startswith("}", pos):
                    return obj, pos + 1
                else:
                    raise json.JSONDecodeError("expected ',' or '}'", self.text, pos)
        return self.decoder.raw_decode(self.text, pos)


def read_wta_instance(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(values (T,), pk (W, T)) of INSTANCE.json; errors name the file, line and field."""
    name = str(path)
    text = _read_text(path, "INSTANCE")
    if not text.strip():
        raise InputError(Problem(name, None, "", "empty file: expected a JSON object with values and pk"))
    reader = _Located(text)
    try:
        data, end = reader.value(0, "")
        if reader.skip(end) != len(text):
            raise json.JSONDecodeError("extra data after the JSON value", text, reader.skip(end))
    except json.JSONDecodeError as exc:
        raise InputError(Problem(name, exc.lineno, "", f"not valid JSON: {exc.msg} (column {exc.colno})")) from None
    except RecursionError:
        raise InputError(Problem(name, None, "", "not valid JSON: nested too deeply")) from None

    def fail(field: str, message: str):
        raise InputError(Problem(name, reader.lines.get(field), field, message))

    if not isinstance(data, dict):
        fail("", "expected a JSON object with keys values and pk")
    for key in ("values", "pk"):
        if key not in data:
            raise InputError(Problem(name, None, key, "missing"))
    values, pk = data["values"], data["pk"]
    if not isinstance(values, list) or not values:
        fail("values", "must be a non-empty list of numbers, one per target")
    for j, x in enumerate(values):
        if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x) or x < 0:
            fail(f"values[{j}]", f"must be a finite number >= 0, got {x!r}")
    if not isinstance(pk, list) or not pk:
        fail("pk", "must be a non-empty list of rows, one per weapon")
    for i, row in enumerate(pk):
        if not isinstance(row, list):
            fail(f"pk[{i}]", f"must be a row of {len(values)} probabilities, got {type(row).__name__}")
        if len(row) != len(values):
            fail(f"pk[{i}]", f"has {len(row)} entries but there are {len(values)} targets (values)")
        for j, x in enumerate(row):
            if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x) or not 0.0 <= x <= 1.0:
                fail(f"pk[{i}][{j}]", f"kill probability must be a number in [0, 1], got {x!r}")
    return np.asarray(values, dtype=float), np.asarray(pk, dtype=float)


def write_wta_solution(solution: WTASolution, method: str, target: Path) -> None:
    """Write SOLUTION.json atomically."""
    write_json(
        {
            "assignment": [int(j) for j in solution.assignment],
            "objective": float(solution.objective),
            "lower_bound": None if solution.lower_bound is None else float(solution.lower_bound),
            "gap": None if solution.gap is None else float(solution.gap),
            "status": solution.status,
            "solve_time_s": float(solution.solve_time_s),
            "method": method,
        },
        target,
    )
