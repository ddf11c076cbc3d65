"""The layer rules of DESIGN.md, enforced: import-linter contracts and a clean core."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_are_kept():
    exe = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(exe)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_core_imports_without_the_upper_layers():
    # a fresh interpreter: importing every core module pulls in no pydantic, pint, rich,
    # typer, pyarrow, and nothing from the layers above (yaml is not checked here: numba
    # itself imports it to read its config file; the import-linter contract covers ours)
    code = (
        "import sys, importlib, pkgutil, hoplon.core as c\n"
        "for m in pkgutil.iter_modules(c.__path__): importlib.import_module('hoplon.core.' + m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('pydantic','pint','rich','typer','pyarrow')"
        " or m.startswith(('hoplon.scenario','hoplon.sim','hoplon.analysis','hoplon.io','hoplon.report','hoplon.cli'))]\n"
        "print(','.join(sorted(bad)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_public_api_exports_exist():
    import hoplon.api as api

    for name in api.__all__:
        assert hasattr(api, name), name
