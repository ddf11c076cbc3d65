"""Docs that run: every Python block of the README executes, and the scenario excerpt loads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


@pytest.mark.parametrize("code", _blocks("python"))
def test_python_blocks_run(code, capsys):
    exec(compile(code, "README.md", "exec"), {})
    assert capsys.readouterr().out.strip()


def test_scenario_excerpt_loads_and_runs():
    from hoplon.scenario import load_scenario
    from hoplon.sim.engine import run
    from hoplon.sim.world import compile_scenario

    (yaml_text,) = [b for b in _blocks("yaml") if "threats:" in b]
    scenario = load_scenario(yaml_text, filename="README.md")
    result = run(compile_scenario(scenario), truth_step_s=10.0)
    assert result.outcomes.num_rows == 3  # a salvo of two and one drone


def test_quick_start_has_exactly_two_commands():
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = [b.strip() for b in _blocks("bash") if b.strip() in quick]
    assert len(commands) == 2
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci  # CI runs the README's test command


def test_batteries_excerpt_is_valid_in_anatolia():
    """The README's `batteries:` excerpt, put into the built-in scenario, loads."""
    from hoplon.scenario import load_scenario
    from hoplon.scenario.builtins import builtin_text

    (excerpt,) = [b for b in _blocks("yaml") if b.startswith("batteries:")]
    text = builtin_text("anatolia")
    head, _ = text.split("\nbatteries:", 1)
    scenario = load_scenario(head + "\n" + excerpt, filename="README.md")
    assert [b.id for b in scenario.batteries] == ["incirlik-patriot"]
    assert scenario.batteries[0].doctrine.kill_assessment_delay_s == 8.0
