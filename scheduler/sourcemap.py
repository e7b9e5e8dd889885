"""Read YAML into plain Python values while remembering where every value stood in the file.

ruamel.yaml's round-trip loader keeps line and column on mappings and sequences; we copy the
document into plain dicts, lists and scalars (what pydantic expects) and record, for each field
path, the position of its key and of its value, so any later check can point at a line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from scheduler.problems import FieldPath, Problem, error

Position = tuple[int, int]
"""0-based (line, column), as ruamel reports them."""


@dataclass
class SourceMap:
    file: str
    keys: dict[FieldPath, Position] = field(default_factory=dict)
    values: dict[FieldPath, Position] = field(default_factory=dict)

    def position(self, path: FieldPath, *, key: bool = False) -> Position | None:
        """Where ``path`` stands, or its nearest ancestor that exists in the file."""
        table = self.keys if key else self.values
        if path in table:
            return table[path]
        for end in range(len(path) - 1, -1, -1):
            prefix = path[:end]
            if prefix in self.values:
                return self.values[prefix]
        return None

    def locate(self, problem: Problem, *, key: bool = False) -> Problem:
        found = self.position(problem.path, key=key)
        if found is None:
            return problem.located(self.file, None, None)
        return problem.located(self.file, found[0] + 1, found[1] + 1)


@dataclass
class ParsedYaml:
    data: Any
    source: SourceMap
    problems: list[Problem]


def parse_yaml(text: str, file: str) -> ParsedYaml:
    """Parse ``text``; syntax errors and duplicate keys come back as located problems."""
    source = SourceMap(file)
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = True
    try:
        node = yaml.compose(text)
        loaded = yaml.load(text)
    except MarkedYAMLError as exc:
        return ParsedYaml(None, source, [_syntax_problem(exc, file)])
    except YAMLError as exc:  # unmarked errors are rare; still no traceback
        return ParsedYaml(None, source, [error("yaml-syntax", (), f"not valid YAML: {exc}")])
    except ValueError as exc:  # ruamel builds 2026-11-31 as a date and Python refuses it
        unknown = error("yaml-syntax", (), f"not valid YAML: {exc}").located(file, 1, 1)
        return ParsedYaml(None, source, _bad_timestamps(node, (), file) or [unknown])
    try:
        problems = _duplicate_keys(node, (), source) if node is not None else []
        data = _plain(loaded, (), source)
    except RecursionError:
        endless = error("yaml-syntax", (), "an alias (*name) contains itself", "no endless nesting")
        mark = (_self_containing(node, set(), set()) or node).start_mark
        return ParsedYaml(None, source, [endless.located(file, mark.line + 1, mark.column + 1)])
    return ParsedYaml(data, source, problems)


def _self_containing(node: Node, open_nodes: set[int], done: set[int]) -> Node | None:
    """The anchored collection that an alias inside it refers back to, if any."""
    if id(node) in open_nodes:
        return node
    if id(node) in done:
        return None
    open_nodes.add(id(node))
    children: list[Node] = []
    if isinstance(node, MappingNode):
        children = [child for pair in node.value for child in pair]
    elif isinstance(node, SequenceNode):
        children = list(node.value)
    for child in children:
        found = _self_containing(child, open_nodes, done)
        if found is not None:
            return found
    open_nodes.discard(id(node))
    done.add(id(node))
    return None


def _bad_timestamps(node: Node, path: FieldPath, file: str) -> list[Problem]:
    """Dates and times that look right to YAML but do not exist in the calendar."""
    if isinstance(node, MappingNode):
        return [
            found
            for key, value in node.value
            for found in _bad_timestamps(value, (*path, str(key.value)), file)
        ]
    if isinstance(node, SequenceNode):
        return [
            found
            for index, item in enumerate(node.value)
            for found in _bad_timestamps(item, (*path, index), file)
        ]
    if not isinstance(node, ScalarNode) or node.tag != "tag:yaml.org,2002:timestamp":
        return []
    try:
        YAML(typ="safe", pure=True).load(node.value)
    except ValueError as exc:
        problem = error(
            "invalid-value",
            path,
            f"found {node.value}, which is not a real date or time ({exc})",
            "a date such as 2026-11-25, or a time such as 2026-11-25T12:00:00Z",
        )
        return [problem.located(file, node.start_mark.line + 1, node.start_mark.column + 1)]
    return []


_SYNTAX_HINTS = (
    ("'\\t'", "spaces for indentation (YAML does not allow tabs)"),
    ("'@'", "quotes around a text that starts with '@', such as handle: \"@belgium\""),
    (
        "mapping values are not allowed",
        "each 'key: value' on its own line, indented like the keys "
        "beside it (put quotes around a text that contains ': ')",
    ),
    ("quoted scalar", "a closing quote for the text that starts here"),
)


def _syntax_problem(exc: MarkedYAMLError, file: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    if exc.context_mark is not None and "end" in str(exc.problem) and "stream" in str(exc.problem):
        mark = exc.context_mark  # where the unclosed quote or bracket opened, not the file's end
    what = " ".join(part for part in (exc.context, exc.problem) if part)
    hint = next((hint for key, hint in _SYNTAX_HINTS if key in what), "well-formed YAML")
    problem = error("yaml-syntax", (), f"not valid YAML: {what}", hint)
    if mark is None:
        return problem.located(file, None, None)
    return problem.located(file, mark.line + 1, mark.column + 1)


def _duplicate_keys(node: Node, path: FieldPath, source: SourceMap) -> list[Problem]:
    found: list[Problem] = []
    if isinstance(node, MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, ScalarNode) else "?"
            if key in seen:
                mark = key_node.start_mark
                problem = error(
                    "duplicate-key",
                    (*path, key),
                    f"key '{key}' appears twice in this mapping (first at line {seen[key]})",
                    "each key once",
                )
                found.append(problem.located(source.file, mark.line + 1, mark.column + 1))
            else:
                seen[key] = key_node.start_mark.line + 1
            found += _duplicate_keys(value_node, (*path, key), source)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            found += _duplicate_keys(item, (*path, index), source)
    return found


def _plain(value: Any, path: FieldPath, source: SourceMap) -> Any:
    if path == ():
        source.values[()] = (value.lc.line, value.lc.col) if hasattr(value, "lc") else (0, 0)
    if isinstance(value, CommentedMap):
        plain: dict[Any, Any] = {}
        for key, item in value.items():
            child = (*path, str(key))
            key_line, key_col, value_line, value_col = value.lc.data[key]
            source.keys[child] = (key_line, key_col)
            # ruamel places an empty value at the next token, often on a later line
            source.values[child] = (key_line, key_col) if item is None else (value_line, value_col)
            plain[_scalar(key)] = _plain(item, child, source)
        return plain
    if isinstance(value, CommentedSeq):
        items = []
        for index, item in enumerate(value):
            child = (*path, index)
            source.values[child] = value.lc.data[index]
            items.append(_plain(item, child, source))
        return items
    return _scalar(value)


def _scalar(value: Any) -> Any:
    """ruamel's scalar subclasses (ScalarFloat, TimeStamp, ...) as their plain base types."""
    if isinstance(value, dt.datetime):
        return dt.datetime(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
            tzinfo=value.tzinfo,
        )
    if isinstance(value, bool | dt.date) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value
