"""Write a run to a directory: summary.json, truth.parquet, events.parquet, outcomes.parquet.

Every file is written to a temporary name in the same directory and then renamed over
its target, so a crash or a full disk never leaves a half-written file, and files
already there are replaced only by complete new ones. Outputs are byte-identical for
the same inputs and seed (no wall-clock times, fixed orders, fixed Parquet options).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from hoplon.errors import InputError, Problem

__all__ = ["atomic_write", "write_table", "write_json", "prepare_output_dir"]


def prepare_output_dir(path: Path, *, option: str = "--out") -> Path:
    """Create ``path`` (and parents) or explain why it cannot be an output directory."""
    if path.exists() and not path.is_dir():
        raise InputError(Problem(str(path), None, option, "exists and is not a directory"))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(Problem(str(path), None, option, f"cannot create the directory: {exc.strerror}")) from None
    if not os.access(path, os.W_OK):
        raise InputError(Problem(str(path), None, option, "is not writable"))
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(target: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``target``, then rename it over ``target``.

    The file gets the permissions a plain ``open(..., "w")`` would give it (0666 less
    the umask), not the private 0600 of a temporary file.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def write_table(table: pa.Table, target: Path) -> None:
    """Parquet with fixed options (zstd, no statistics timestamps) for reproducible bytes."""
    atomic_write(target, lambda p: pq.write_table(table, p, compression="zstd", write_statistics=True))


def write_json(obj: object, target: Path) -> None:
    text = json.dumps(obj, indent=2, sort_keys=False, ensure_ascii=False, allow_nan=False) + "\n"
    atomic_write(target, lambda p: p.write_text(text, encoding="utf-8"))
