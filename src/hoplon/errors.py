"""User-facing errors.

Every error caused by what a user gave Hoplon (a scenario file, a CSV, a command-line
value) is a :class:`HoplonError`. Its message is one line per problem, each naming the
file, the line and the field, so the CLI can print it as it is, with no traceback, and
exit with status 2. Programming errors stay ordinary exceptions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Problem", "HoplonError", "ScenarioError", "InputError"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is and what is wrong.

    ``line`` is 1-based and ``None`` when the input has no lines (a command-line
    value) or the problem concerns the whole file; ``field`` is a dotted path such as
    ``threats.ballistic[2].launch.lat`` (empty for the whole file).
    """

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class HoplonError(Exception):
    """An error in user input; ``str(err)`` is the message to print (one line per problem)."""

    exit_code = 2

    def __init__(self, problems: Problem | Iterable[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(file="", line=None, field="", message=problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p).removeprefix(": ") for p in self.problems))


class ScenarioError(HoplonError):
    """A scenario (or catalog) file is malformed, inconsistent or physically impossible."""


class InputError(HoplonError):
    """A data file or command-line value is malformed."""
