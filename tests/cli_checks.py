"""Shared helpers for tests of ``hoplon`` subcommands run in process (CliRunner)."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from hoplon.cli import app

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def invoke(command: str, *args: str):
    """(exit code, stdout, stderr, exception) of ``hoplon COMMAND ARGS``, colours removed."""
    res = CliRunner().invoke(app, [command, *args])
    return res.exit_code, ANSI.sub("", res.stdout), ANSI.sub("", res.stderr), res.exception


def assert_clean_error(code, out, err, exc, *needles: str) -> None:
    """Exit 2 through SystemExit, no traceback, and every needle in the (re-spaced) stderr."""
    assert code == 2, out + err
    assert isinstance(exc, SystemExit), repr(exc)
    assert "Traceback" not in out + err
    flat = " ".join(err.split())
    for needle in needles:
        assert needle in flat, flat
