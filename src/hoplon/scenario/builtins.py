"""Built-in scenarios shipped with Hoplon (``src/hoplon/scenario/builtin/*.yaml``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from hoplon.errors import InputError, Problem
from hoplon.scenario.loader import load_scenario
from hoplon.scenario.schema import Scenario

__all__ = ["builtin_names", "builtin_text", "resolve_scenario", "DEFAULT_SCENARIO"]

DEFAULT_SCENARIO = "anatolia"


def builtin_names() -> list[str]:
    """Names of the built-in scenarios, sorted."""
    folder = resources.files("hoplon.scenario") / "builtin"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def builtin_text(name: str) -> str:
    """The YAML text of built-in scenario ``name`` (exactly as shipped)."""
    if name not in builtin_names():
        raise InputError(Problem("", None, "SCENARIO", f"no built-in scenario {name!r}; built-ins: {', '.join(builtin_names())}"))
    return (resources.files("hoplon.scenario") / "builtin" / f"{name}.yaml").read_text(encoding="utf-8")


def resolve_scenario(arg: str | None) -> Scenario:
    """Load ``arg``: a scenario file if such a file exists, else a built-in name."""
    arg = arg or DEFAULT_SCENARIO
    path = Path(arg)
    if path.is_file():
        return load_scenario(path, filename=arg)
    if path.exists():
        raise InputError(Problem(arg, None, "", "is not a file"))
    if arg in builtin_names():
        return load_scenario(builtin_text(arg), filename=f"{arg}.yaml (built-in)")
    hint = "no such file" if (path.suffix or "/" in arg) else "no such file or built-in scenario"
    raise InputError(Problem(arg, None, "", f"{hint}; built-in scenarios: {', '.join(builtin_names())}"))
