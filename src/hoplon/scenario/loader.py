"""Load scenario and catalog files: YAML with line numbers, validation, located errors.

Every problem found in a file becomes one :class:`~hoplon.errors.Problem` with the file
name as the user gave it, the 1-based line, the field path in YAML names
(``threats.ballistic[2].launch.lat``) and a short message; all problems of a file are
raised together in one :class:`~hoplon.errors.ScenarioError`.

YAML is read with PyYAML's safe machinery only: the node tree is composed with
``yaml.SafeLoader`` and Python values are built here from the nodes, recording the line
of every mapping key and list item in a :class:`SourceMap`. Mapping keys are always
strings (their text in the file).
"""

from __future__ import annotations

import difflib
import math
import os
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, Tag, ValidationError

from hoplon.errors import Problem, ScenarioError
from hoplon.scenario.schema import (
    PATTERN_HINTS,
    THREAT_SECTIONS,
    AssetRef,
    AssetWaypoint,
    BallisticThreat,
    Catalog,
    FieldPath,
    Scenario,
    SourceMap,
    format_path,
)
from hoplon.scenario.units import describe_value, quote_value

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "SourceMap",
    "load_catalog",
    "load_model",
    "load_scenario",
    "load_yaml",
    "validate_model",
    "validate_scenario",
]

Source = Union[str, bytes, "os.PathLike[str]"]
M = TypeVar("M", bound=BaseModel)

_MAX_NODES = 2_000_000  # values after expanding aliases; stops "billion laughs" files
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_SCALAR_TAGS = {
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "timestamp")
}


# --- reading --------------------------------------------------------------------------


def _fail(filename: str, message: str, line: int | None = None) -> ScenarioError:
    return ScenarioError(Problem(filename, line, "", message))


def _read(source: Source, filename: str | None) -> tuple[str, str]:
    """The text of ``source`` and the name to show for it."""
    if isinstance(source, os.PathLike):
        name = filename if filename is not None else os.fspath(source)
        path = Path(source)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise _fail(name, "file not found") from None
        except IsADirectoryError:
            raise _fail(name, "is a directory, not a file") from None
        except PermissionError:
            raise _fail(name, "cannot read the file: permission denied") from None
        except OSError as err:
            raise _fail(name, f"cannot read the file: {err.strerror or err}") from None
        return _decode(raw, name), name
    if isinstance(source, bytes):
        name = filename if filename is not None else "<bytes>"
        return _decode(source, name), name
    if isinstance(source, str):
        name = filename if filename is not None else "<string>"
        first_line = source.strip()
        if (
            "\n" not in first_line
            and ":" not in first_line
            and first_line.endswith((".yaml", ".yml", ".json"))
        ):
            raise TypeError(
                f"got the text {source!r}, which looks like a file name: "
                "pass a pathlib.Path to load a file (a str is the YAML text itself)"
            )
        if "\x00" in source:
            raise _fail(name, "not a text file: it contains NUL bytes")
        return source.removeprefix("\ufeff"), name
    raise TypeError(f"expected a pathlib.Path, str or bytes, got {type(source).__name__}")


def _decode(raw: bytes, name: str) -> str:
    if b"\x00" in raw:
        raise _fail(name, "not a text file: it contains NUL bytes (binary data?)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise _fail(
            name, f"not a text file: invalid UTF-8 at byte {err.start} (save it as UTF-8)", line
        ) from None


def _last_content_line(text: str) -> int | None:
    """1-based number of the last line with something other than blanks or a comment."""
    for number, line in reversed(list(enumerate(text.splitlines(), start=1))):
        if line.strip() and not line.lstrip().startswith("#"):
            return number
    return None


def _yaml_message(err: yaml.MarkedYAMLError, text: str = "") -> tuple[str, int | None]:
    """A plain-English message and the line for a YAML syntax error."""
    problem = (err.problem or "").strip()
    line = err.problem_mark.line + 1 if err.problem_mark is not None else None
    context_line = err.context_mark.line + 1 if err.context_mark is not None else None
    if "'\\t'" in problem:
        return "tab character: YAML indents with spaces only; replace tabs with spaces", line
    if problem == "mapping values are not allowed here":
        return (
            "unexpected ':'; check this line's indentation, or quote a value that holds ': '",
            line,
        )
    if problem == "could not find expected ':'" and context_line is not None:
        return "expected 'key: value' but found no ':' (or a '-' without a space after it)", (
            context_line
        )
    if problem.startswith("expected <block end>"):
        return "bad indentation: this line does not line up with the lines above it", line
    if err.context == "while scanning a quoted scalar":
        return f"a quoted text opened on line {context_line} is never closed", line
    if problem.startswith("expected ',' or") and context_line is not None:
        bracket = "[" if "sequence" in (err.context or "") else "{"
        return f"a '{bracket}' opened on line {context_line} is not closed, or a ',' is missing", (
            line
        )
    if "<stream end>" in problem:
        # the file ended inside an open bracket or quote: the last line with content is
        # where the parser still expected more
        last = _last_content_line(text) or line
        return f"the file ends in the middle of a value (an unclosed '[', '{{' or quote?) after line {last}", last
    if err.context == "expected a single document in the stream":
        return "more than one YAML document ('---'): put the whole scenario in one", line
    if problem.startswith("found undefined alias"):
        return f"{problem.replace('found undefined', 'unknown')} (no '&' anchor defines it)", line
    context = f" ({err.context} on line {context_line})" if err.context and context_line else ""
    return f"invalid YAML: {problem}{context}", line


class _Builder:
    """Builds Python values from a composed YAML node tree, recording lines by path."""

    def __init__(self, loader: yaml.SafeLoader, filename: str) -> None:
        self.loader = loader
        self.filename = filename
        self.lines: dict[FieldPath, int] = {}
        self.problems: list[Problem] = []

    def problem(self, path: FieldPath, node: yaml.Node, message: str) -> None:
        self.problems.append(
            Problem(self.filename, node.start_mark.line + 1, format_path(path), message)
        )

    def build(self, node: yaml.Node, path: FieldPath) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if isinstance(node, yaml.MappingNode) and node.tag == _MAP_TAG:
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ_TAG:
            items = []
            for index, item in enumerate(node.value):
                self.lines[path + (index,)] = item.start_mark.line + 1
                items.append(self.build(item, path + (index,)))
            return items
        self.problem(path, node, f"unsupported YAML tag '{node.tag}'")
        return None

    def scalar(self, node: yaml.ScalarNode, path: FieldPath) -> Any:
        if node.tag not in _SCALAR_TAGS:
            self.problem(path, node, f"unsupported YAML tag '{node.tag}'")
            return None
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, yaml.YAMLError):  # e.g. 2026-13-01: validation will say why
            return str(node.value)

    def mapping(self, node: yaml.MappingNode, path: FieldPath) -> dict[str, Any]:
        first_line: dict[str, int] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != _MERGE_TAG:
                key, line = str(key_node.value), key_node.start_mark.line + 1
                if key in first_line:
                    self.problem(
                        path + (key,), key_node,
                        f"duplicate key '{key}' (first given on line {first_line[key]})",
                    )
                else:
                    first_line[key] = line
        try:
            self.loader.flatten_mapping(node)  # resolves '<<' merge keys
        except yaml.MarkedYAMLError as err:
            message, line = _yaml_message(err)
            self.problems.append(Problem(self.filename, line, format_path(path), message))
            return {}
        pairs: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:  # merged keys first; later ones override
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(path, key_node, "a key must be plain text, not a list or mapping")
                continue
            pairs[str(key_node.value)] = (key_node, value_node)
        result = {}
        for key, (key_node, value_node) in pairs.items():
            self.lines[path + (key,)] = key_node.start_mark.line + 1
            result[key] = self.build(value_node, path + (key,))
        return result


def _expanded_size(root: yaml.Node, filename: str) -> int:
    """How many values the tree holds once aliases are expanded (each node sized once)."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise _fail(filename, "a YAML alias refers to itself", node.start_mark.line + 1)
        active.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(item) for item in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        active.discard(key)
        sizes[key] = min(total, _MAX_NODES + 1)
        return sizes[key]

    return size(root)


def _load_yaml(source: Source, filename: str | None) -> tuple[Any, SourceMap, list[Problem]]:
    """Parse YAML; fatal problems raise, others (duplicate keys) are returned."""
    text, name = _read(source, filename)
    if not text.strip():
        raise _fail(name, "file is empty")
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise _fail(name, "file is empty (only comments)")
        builder = _Builder(loader, name)
        builder.lines[()] = node.start_mark.line + 1
        if _expanded_size(node, name) > _MAX_NODES:
            raise _fail(name, "the file expands to too much data (YAML aliases?)")
        data = builder.build(node, ())
    except RecursionError:
        raise _fail(name, "the file is nested too deeply") from None
    except yaml.MarkedYAMLError as err:
        message, line = _yaml_message(err, text)
        raise _fail(name, message, line) from None
    except yaml.YAMLError as err:
        raise _fail(name, f"invalid YAML: {err}") from None
    finally:
        loader.dispose()
    return data, SourceMap(name, builder.lines), builder.problems


def load_yaml(source: Source, *, filename: str | None = None) -> tuple[Any, SourceMap]:
    """Read a YAML file (a :class:`~pathlib.Path`) or text (a ``str`` or ``bytes``).

    Returns the data (mappings as ``dict`` with ``str`` keys, lists, scalars) and a
    :class:`SourceMap` of the line of each field path. ``filename`` is the name used in
    messages (default: the path as given, or ``<string>``). Raises
    :class:`~hoplon.errors.ScenarioError` for a missing, binary, empty or invalid file,
    duplicate keys, or a top level that is not a mapping.
    """
    data, source_map, problems = _load_yaml(source, filename)
    problems += _top_level_problems(data, source_map)
    if problems:
        raise ScenarioError(_sorted(problems))
    return data, source_map


def _top_level_problems(data: Any, source: SourceMap) -> list[Problem]:
    if isinstance(data, dict):
        return []
    message = "the top level must be a mapping of 'field: value' lines"
    return [source.problem((), f"{message}, got {describe_value(data)}")]


def _sorted(problems: Iterable[Problem]) -> list[Problem]:
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: p.line if p.line is not None else 0)


# --- validation -----------------------------------------------------------------------


def _strip(tp: Any) -> Any:
    """Remove ``Annotated`` and ``None`` from a union, repeatedly."""
    while True:
        if get_origin(tp) is typing.Annotated:
            tp = get_args(tp)[0]
            continue
        if get_origin(tp) in (Union, types.UnionType):
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp


def _field_annotation(model: type[BaseModel], name: Any) -> tuple[bool, Any]:
    for attr, info in model.model_fields.items():
        if name in (info.alias, attr):
            return True, info.annotation
    return False, None


def _tagged_member(union: Any, tag: Any) -> Any:
    for member in get_args(union):
        if get_origin(member) is typing.Annotated:
            for meta in member.__metadata__:
                if isinstance(meta, Tag) and meta.tag == tag:
                    return member
    return None


def _resolve_loc(
    root: type[BaseModel], loc: Sequence[str | int]
) -> tuple[FieldPath, type[BaseModel] | None, bool]:
    """Map a pydantic error location to a YAML field path.

    Drops union tags. Returns the path, the model owning the last key (for "did you
    mean"), and whether the error is about a mapping key rather than its value.
    """
    path: list[str | int] = []
    tp: Any = root
    owner: type[BaseModel] | None = None
    is_key = False
    for item in loc:
        if item == "[key]":
            is_key = True
            continue
        tp = _strip(tp)
        if get_origin(tp) in (Union, types.UnionType):
            member = _tagged_member(tp, item)
            if member is not None:  # a union tag: not part of the YAML path
                tp = member
                continue
        path.append(item)
        origin = get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            owner = tp
            found, tp = _field_annotation(tp, item)
            if not found:
                tp = None
        elif origin in (list, tuple, Sequence):
            args = get_args(tp)
            tp = args[0] if args else None
        elif origin is dict:
            args = get_args(tp)
            tp = args[1] if len(args) == 2 else None
        else:
            tp = None
    return tuple(path), owner, is_key


def _suggest(word: str, options: Sequence[str]) -> str | None:
    """The option closest to ``word``, if any is close enough."""
    lowered = {o.lower(): o for o in options}
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def _unknown(what: str, word: str, options: Sequence[str], limit: int = 12) -> str:
    """'unknown X 'w' (did you mean 'v'?)', or with the list of options."""
    guess = _suggest(word, options)
    if guess is not None:
        return f"unknown {what} '{word}' (did you mean '{guess}'?)"
    if not options:
        return f"unknown {what} '{word}'"
    shown = ", ".join(f"'{o}'" for o in list(options)[:limit])
    more = ", ..." if len(options) > limit else ""
    return f"unknown {what} '{word}'; expected one of {shown}{more}"


def _message(error: Any, path: FieldPath, owner: type[BaseModel] | None, is_key: bool) -> tuple[
    FieldPath, str
]:
    """A plain-English message for one pydantic error, and the path to report it at."""
    kind: str = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    got = describe_value(value)
    if is_key:
        hint = PATTERN_HINTS.get(str(ctx.get("pattern")), "is not a valid name")
        return path, f"invalid name {quote_value(value)}: a name {hint}"
    if kind == "missing":
        return path[:-1], f"missing required field '{path[-1]}'"
    if kind == "extra_forbidden":
        fields = (
            [info.alias or attr for attr, info in owner.model_fields.items()] if owner else []
        )
        return path, _unknown("field", str(path[-1]), fields)
    simple = {
        "string_type": f"expected text, got {got}",
        "int_type": f"expected a whole number, got {got}",
        "int_parsing": f"expected a whole number, got {got}",
        "int_from_float": f"expected a whole number, got {got}",
        "float_type": f"expected a number, got {got}",
        "float_parsing": f"expected a number, got {got}",
        "bool_type": f"expected true or false, got {got}",
        "bool_parsing": f"expected true or false, got {got}",
        "list_type": f"expected a list, got {got}",
        "tuple_type": f"expected a list, got {got}",
        "dict_type": f"expected a mapping of 'key: value' lines, got {got}",
        "model_type": f"expected a mapping of 'field: value' lines, got {got}",
        "model_attributes_type": f"expected a mapping of 'field: value' lines, got {got}",
        "string_too_short": "must not be empty",
        "timezone_aware": (
            "needs a timezone, e.g. 2026-03-04T00:00:00Z (Z means UTC), got "
            f"{describe_value(value)}"
        ),
    }
    if kind in simple:
        return path, simple[kind]
    if kind in ("datetime_type", "datetime_parsing", "datetime_from_date_parsing"):
        reason = f" ({ctx['error']})" if isinstance(value, str) and ctx.get("error") else ""
        return path, (
            f"expected a date-time with timezone, e.g. 2026-03-04T00:00:00Z, got {got}{reason}"
        )
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace(" or ", ", ")
        options = [option.strip("'") for option in expected.split(", ")]
        if isinstance(value, str):
            return path, _unknown("value", value, options)
        return path, f"expected one of {', '.join(repr(o) for o in options)}, got {got}"
    bounds = {
        "greater_than": ("greater than", "gt"),
        "greater_than_equal": ("at least", "ge"),
        "less_than": ("less than", "lt"),
        "less_than_equal": ("at most", "le"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return path, f"must be {words} {ctx.get(key)}, got {quote_value(value)}"
    if kind == "string_pattern_mismatch":
        hint = PATTERN_HINTS.get(str(ctx.get("pattern")), f"must match {ctx.get('pattern')}")
        return path, f"{hint}, got {quote_value(value)}"
    if kind == "too_short" and "min_length" in ctx:
        return path, f"needs at least {ctx['min_length']} entries, got {ctx.get('actual_length')}"
    message = str(error.get("msg", "invalid value"))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return path, message


def _validation_problems(
    err: ValidationError, model: type[BaseModel], source: SourceMap
) -> list[Problem]:
    errors = err.errors(include_url=False)
    located = [(error, *_resolve_loc(model, error["loc"])) for error in errors]
    # A misspelt field is reported once, as unknown with a suggestion, not also as missing.
    suggested = set()
    bad_epoch = False
    for error, path, owner, is_key in located:
        if error["type"] == "extra_forbidden" and owner is not None and not is_key:
            aliases = [info.alias or attr for attr, info in owner.model_fields.items()]
            guess = _suggest(str(path[-1]), aliases)
            if guess is not None:
                suggested.add(path[:-1] + (guess,))
        bad_epoch = bad_epoch or path[:1] == ("epoch",)
    problems = []
    for error, path, owner, is_key in located:
        if error["type"] == "missing" and path in suggested:
            continue
        if error["type"] == "no_epoch" and bad_epoch:
            continue  # follows from the epoch problem, reported on its own
        where, message = _message(error, path, owner, is_key)
        problems.append(source.problem(where, message))
    return problems


def _validate(
    model: type[M], data: Any, source: SourceMap
) -> tuple[M | None, list[Problem]]:
    try:
        return model.model_validate(data, by_alias=True, by_name=False), []
    except ValidationError as err:
        return None, _validation_problems(err, model, source)


def validate_model(model: type[M], data: Any, source: SourceMap) -> M:
    """Validate parsed data against a model; every problem is located through ``source``."""
    result, problems = _validate(model, data, source)
    if problems or result is None:
        raise ScenarioError(_sorted(problems))
    return result


def load_model(model: type[M], source: Source, *, filename: str | None = None) -> tuple[
    M, SourceMap
]:
    """Load a YAML file or text and validate it against ``model`` (YAML field names)."""
    data, source_map, problems = _load_yaml(source, filename)
    problems += _top_level_problems(data, source_map)
    result = None
    if isinstance(data, dict):
        result, more = _validate(model, data, source_map)
        problems += more
    if problems or result is None:
        raise ScenarioError(_sorted(problems))
    return result, source_map


def load_catalog(source: Source, *, filename: str | None = None) -> Catalog:
    """Load a threat catalog file (the format of the packaged ``threats.yaml``)."""
    return load_model(Catalog, source, filename=filename)[0]


# --- scenarios ------------------------------------------------------------------------


def load_scenario(
    source: Source, *, filename: str | None = None, catalog: Catalog | None = None
) -> Scenario:
    """Load, validate and cross-check a scenario.

    ``source`` is a :class:`~pathlib.Path` to a file, or the YAML text itself as ``str``
    or ``bytes`` (e.g. a built-in scenario, with ``filename="builtin:anatolia"``).
    ``catalog`` is the packaged threat catalog to check types against (default: the
    one shipped with Hoplon). Raises :class:`~hoplon.errors.ScenarioError` listing every
    problem found, one per line.
    """
    data, source_map, problems = _load_yaml(source, filename)
    problems += _top_level_problems(data, source_map)
    if problems and not isinstance(data, dict):
        raise ScenarioError(_sorted(problems))
    try:
        scenario = validate_scenario(data, source=source_map, catalog=catalog)
    except ScenarioError as err:
        raise ScenarioError(_sorted(problems + err.problems)) from None
    if problems:
        raise ScenarioError(_sorted(problems))
    return scenario


def validate_scenario(
    data: Any, *, source: SourceMap | None = None, catalog: Catalog | None = None
) -> Scenario:
    """Validate and cross-check scenario data already parsed (e.g. from JSON).

    ``source`` locates problems (default: no lines, file ``<scenario>``); the returned
    scenario keeps it for :meth:`Scenario.problem`.
    """
    source = source if source is not None else SourceMap("<scenario>")
    if catalog is None:
        from hoplon.scenario.catalog import load_packaged_catalog

        catalog = load_packaged_catalog()
    scenario, problems = _validate(Scenario, data, source)
    if scenario is None:
        raise ScenarioError(_sorted(problems))
    problems = _cross_check(scenario, catalog, source)
    if problems:
        raise ScenarioError(_sorted(problems))
    scenario._source = source
    scenario._catalog = catalog.merged_with(scenario.catalog)
    return scenario


def _where(path: FieldPath, source: SourceMap) -> str:
    line = source.line_for(path)
    return f"{format_path(path)}" + (f" on line {line}" if line is not None else "")


def _cross_check(scenario: Scenario, packaged: Catalog, source: SourceMap) -> list[Problem]:
    """Checks across fields: unique names, known assets, threat types and ids."""
    problems: list[Problem] = []

    # Scenario-defined types must not clash with packaged ones.
    for section, name in packaged.clashes(scenario.catalog):
        problems.append(
            source.problem(
                ("catalog", section, name),
                f"type '{name}' is already in the packaged catalog; give yours another name",
            )
        )
    types_by_section = {
        section: {**packaged.section(section), **scenario.catalog.section(section)}
        for section in ("ballistic", "drone", "cruise_missile")
    }

    # Asset names are unique.
    asset_paths: dict[str, FieldPath] = {}
    for index, asset in enumerate(scenario.assets):
        path: FieldPath = ("assets", index, "name")
        if asset.name in asset_paths:
            problems.append(
                source.problem(
                    path,
                    f"duplicate asset name '{asset.name}' (also "
                    f"{_where(asset_paths[asset.name][:2], source)})",
                )
            )
        else:
            asset_paths[asset.name] = path
    asset_names = list(asset_paths)

    def check_asset(name: str, path: FieldPath) -> None:
        if name not in asset_paths:
            if not asset_names:
                problems.append(source.problem(path, f"unknown asset '{name}' (no assets defined)"))
            else:
                problems.append(source.problem(path, _unknown("asset", name, asset_names)))

    problems += _sensor_problems(scenario, packaged, source)
    problems += _battery_problems(scenario, packaged, source, check_asset)

    claimed: dict[str, str] = {}
    for section, index, threat in scenario.threats.entries():
        base: FieldPath = ("threats", section, index)
        catalog_section, noun = THREAT_SECTIONS[section]

        # The type exists in this section's catalog.
        known = types_by_section[catalog_section]
        if threat.type not in known:
            elsewhere = [
                other_noun
                for other, (other_section, other_noun) in THREAT_SECTIONS.items()
                if other != section and threat.type in types_by_section[other_section]
            ]
            if elsewhere:
                message = (
                    f"'{threat.type}' is a {elsewhere[0]} type, not a {noun} type; "
                    f"move this threat to its section"
                )
            else:
                message = _unknown(f"{noun} type", threat.type, list(known))
            problems.append(source.problem(base + ("type",), message))

        # Referenced assets exist.
        if isinstance(threat, BallisticThreat):
            if isinstance(threat.aim, AssetRef):
                check_asset(threat.aim.asset, base + ("aim", "asset"))
        else:
            for k, point in enumerate(threat.route):
                if isinstance(point, AssetWaypoint):
                    check_asset(point.asset, base + ("route", k, "asset"))

        # Ids are unique across all threats, including the ids salvos generate.
        default = threat.id == f"{section}-{index}" and (base + ("id",)) not in source.lines
        ids = [threat.id] + [tid for tid, _ in threat.launches() if tid != threat.id]
        for k, tid in enumerate(ids):
            if tid in claimed:
                what = (
                    f"threat id '{tid}'" if k == 0
                    else f"salvo id '{tid}' (from id '{threat.id}')"
                )
                if default and k == 0:
                    what += " (the default id of this entry; give it an 'id')"
                problems.append(source.problem(base + ("id",), f"{what} is already {claimed[tid]}"))
                break
        else:
            for k, tid in enumerate(ids):
                claimed[tid] = (
                    f"the id of {_where(base, source)}" if k == 0
                    else f"a salvo id of {_where(base, source)}"
                )
    return problems


def _battery_problems(scenario: Scenario, packaged: Catalog, source: SourceMap, check_asset) -> list[Problem]:
    """Battery types exist, ids are unique, radars and defended assets exist."""
    problems: list[Problem] = []
    types = {**packaged.section("interceptor"), **scenario.catalog.section("interceptor")}
    sensor_ids = [s.id for s in scenario.sensors]
    seen: dict[str, int] = {}
    for index, battery in enumerate(scenario.batteries):
        base: FieldPath = ("batteries", index)
        if battery.type not in types:
            problems.append(source.problem(base + ("type",), _unknown("interceptor type", battery.type, list(types))))
        if battery.id in seen:
            problems.append(source.problem(base + ("id",), f"duplicate battery id '{battery.id}' (also batteries[{seen[battery.id]}])"))
        seen.setdefault(battery.id, index)
        if battery.radar is not None and battery.radar not in sensor_ids:
            problems.append(source.problem(base + ("radar",), _unknown("sensor id", battery.radar, sensor_ids)))
        for k, name in enumerate(battery.defends):
            check_asset(name, base + ("defends", k))
    return problems


class _Prefixed:
    """A SourceMap seen from a sub-field: problems of a nested validation land under ``prefix``."""

    def __init__(self, source: SourceMap, prefix: FieldPath) -> None:
        self.source = source
        self.prefix = prefix

    def problem(self, path: FieldPath, message: str) -> Problem:
        return self.source.problem(self.prefix + tuple(path), message)


def _sensor_problems(scenario: Scenario, packaged: Catalog, source: SourceMap) -> list[Problem]:
    """Sensors: unique ids, known types, positions where needed, valid overrides."""
    problems: list[Problem] = []
    radars = {**packaged.radar, **scenario.catalog.radar}
    infrared = {**packaged.infrared, **scenario.catalog.infrared}
    seen: dict[str, FieldPath] = {}
    for index, site in enumerate(scenario.sensors):
        base: FieldPath = ("sensors", index)
        if site.id in seen:
            problems.append(source.problem(base + ("id",), f"duplicate sensor id '{site.id}' (also {_where(seen[site.id], source)})"))
        else:
            seen[site.id] = base
        kind = radars.get(site.type) or infrared.get(site.type)
        if kind is None:
            problems.append(source.problem(base + ("type",), _unknown("sensor type", site.type, [*radars, *infrared])))
            continue
        if site.type in radars:
            for field_name, value in (("lat", site.lat_deg), ("lon", site.lon_deg)):
                if value is None:
                    problems.append(source.problem(base, f"missing required field '{field_name}' (a radar needs a position)"))
            face = kind.azimuth_half_width_rad < math.pi
            if site.overrides.get("azimuth_half_width") is not None:
                face = True  # checked again below once the override is validated
            if face and site.boresight_rad is None and "azimuth_half_width" not in site.overrides:
                problems.append(source.problem(base, "missing required field 'boresight' (the azimuth this radar's face looks at)"))
        else:
            for field_name, value in (("lat", site.lat_deg), ("lon", site.lon_deg), ("alt", site.alt_m), ("boresight", site.boresight_rad)):
                if value is not None:
                    problems.append(source.problem(base + (field_name,), f"a space-based sensor has no '{field_name}'; remove it"))
        if site.overrides:
            merged = {**kind.model_dump(mode="json", by_alias=True), **site.overrides}
            try:
                type(kind).model_validate(merged, by_alias=True, by_name=False)
            except ValidationError as err:
                problems += _validation_problems(err, type(kind), _Prefixed(source, base + ("overrides",)))  # type: ignore[arg-type]
    return problems
