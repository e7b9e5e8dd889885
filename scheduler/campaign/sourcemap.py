"""Read YAML into plain Python values while remembering where every value stood in the file.

ruamel.yaml's round-trip loader keeps line and column on mappings and sequences; we copy the
document into plain dicts, lists and scalars (what pydantic expects) and record, for each field
path, the position of its key and of its value, so any later check can point at a line.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer, MaxDepthExceededError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

from scheduler.problems import FieldPath, Problem, error, quoted

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


def leaves(data: Any, path: FieldPath = ()) -> Iterator[tuple[FieldPath, Any]]:
    """Every value of plain data (dicts, lists, scalars) that holds no other, with its path."""
    if isinstance(data, Mapping):
        for key, value in data.items():
            yield from leaves(value, (*path, str(key)))
    elif isinstance(data, list):
        for number, value in enumerate(data):
            yield from leaves(value, (*path, number))
    else:
        yield path, data


MAX_DEPTH = 50
"""How deeply a campaign file may nest. Its deepest key (a thread part's variant text) is six
levels down; ruamel.yaml recurses once per level and slows down quadratically with depth."""

MAX_ALIAS_VALUES = 100_000
"""How many values aliases (*name) may add by repeating what an anchor (&name) holds: room to
reuse a block many times, none for an "alias bomb" whose aliases of aliases multiply."""

MAX_NODES = 200_000
"""How many values (keys, texts, lists...) a file may hold. A 2,000-embassy campaign holds about
85,000; each costs about a kilobyte to parse, so a file of tiny values near the 20 MB limit
would otherwise take gigabytes."""

_CONSTRUCTION_ERRORS = (ValueError, ArithmeticError, LookupError, TypeError)
"""What ruamel's scalar constructors raise, unmarked, on a value its resolver accepted:
2026-11-31, a 5000-digit number, '!!bool maybe'."""


@dataclass(frozen=True)
class BinaryData:
    """A '!!binary' value. Never text, whatever its bytes: pydantic would decode them."""

    size: int

    def __str__(self) -> str:
        return f"!!binary data ({self.size} bytes)"


@dataclass
class ParsedYaml:
    data: Any
    source: SourceMap
    problems: list[Problem]


def _reader() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = True
    yaml.max_depth = MAX_DEPTH
    yaml.Composer = _CountingComposer
    return yaml


def parse_yaml(text: str, file: str) -> ParsedYaml:
    """Parse ``text``; syntax errors, duplicate keys and the limits above come back as located
    problems, never as exceptions."""
    source = SourceMap(file)
    yaml = _reader()
    problems: list[Problem] = []
    try:
        node = yaml.compose(text)
    except YAMLError as exc:
        return ParsedYaml(None, source, [_yaml_problem(exc, text, file)])
    except _CONSTRUCTION_ERRORS:  # the scanner hands '\UFFFFFFFF' to chr(), which refuses it
        return ParsedYaml(None, source, [_bad_escape(text, file)])
    if node is None:  # nothing but comments, or nothing at all
        source.values[()] = (0, 0)
        return ParsedYaml(None, source, [])
    refused = _aliases_problem(node, file)
    if refused is not None:
        return ParsedYaml(None, source, [refused])
    try:
        # Built from the node already composed: parsing the text twice doubled the load time.
        loaded = yaml.constructor.construct_document(node)
    except YAMLError as exc:
        return ParsedYaml(None, source, [_yaml_problem(exc, text, file)])
    except _CONSTRUCTION_ERRORS as exc:
        unbuildable = _unbuildable_scalars(node, file)
        if not unbuildable:
            unknown = error("yaml-syntax", (), f"not valid YAML: {_first_line(exc)}")
            return ParsedYaml(None, source, [unknown.located(file, 1, 1)])
        # Each read as the text it is written as (_unbuildable_scalars retagged them), so the
        # rest of the file is still checked; the loader says nothing more at those places.
        try:
            loaded = _reader().constructor.construct_document(node)
        except (YAMLError, *_CONSTRUCTION_ERRORS):
            return ParsedYaml(None, source, unbuildable)
        problems = unbuildable
    problems += _duplicate_keys(node, (), source, set())
    flattener = _Flattener(source)
    try:
        data = flattener.plain(loaded, ())
    except _TooDeep as exc:
        return ParsedYaml(None, source, [_too_deep(exc.path, source)])
    return ParsedYaml(data, source, [*problems, *flattener.problems])


class _TooManyNodes(MarkedYAMLError):
    pass


class _CountingComposer(Composer):
    """Stops at the value past MAX_NODES, before building it: the parser reads the file as
    the composer asks, so nothing beyond that point is ever held in memory."""

    composed = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.composed += 1
        if self.composed > MAX_NODES:
            mark = self.parser.peek_event().start_mark
            raise _TooManyNodes(None, None, "too many values", mark)
        return super().compose_node(parent, index)


def _aliases_problem(root: Node, file: str) -> Problem | None:
    """An alias inside what it names, or aliases that multiply the document past the limit:
    both are found on the node graph, where an alias is one shared node, before any copy."""
    looping = _self_containing(root, set(), set())
    if looping is not None:
        problem = error("yaml-syntax", (), "an alias (*name) contains itself", "no endless nesting")
        return problem.located(file, looping.start_mark.line + 1, looping.start_mark.column + 1)
    sizes = _expanded_sizes(root)
    if sizes[id(root)] <= len(sizes) + MAX_ALIAS_VALUES:
        return None
    node = root
    while True:  # down to where the repetition multiplies: the smallest part over the limit
        big = [child for child in _children(node) if sizes[id(child)] > MAX_ALIAS_VALUES]
        if not big:
            break
        node = big[0]
    problem = error(
        "yaml-syntax",
        (),
        f"aliases (*name) repeat more than {MAX_ALIAS_VALUES:,} values",
        "an anchor (&name) reused a few times, not aliases of aliases",
    )
    return problem.located(file, node.start_mark.line + 1, node.start_mark.column + 1)


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


def _unbuildable_scalars(node: Node, file: str) -> list[Problem]:
    """Values that look right to YAML but cannot be built: 2026-11-31, '!!int abc'."""
    builder = YAML(typ="rt").constructor
    found = []
    for path, scalar in _scalar_nodes(node, (), set()):
        if scalar.tag == "tag:yaml.org,2002:str":
            continue
        try:
            builder.construct_object(scalar)
        except (YAMLError, *_CONSTRUCTION_ERRORS) as exc:
            problem = _unbuildable(path, scalar, exc)
            found.append(
                problem.located(file, scalar.start_mark.line + 1, scalar.start_mark.column + 1)
            )
            scalar.tag = "tag:yaml.org,2002:str"  # what parse_yaml reads it as, to go on
    return found


def _unbuildable(path: FieldPath, scalar: ScalarNode, exc: Exception) -> Problem:
    if scalar.tag == "tag:yaml.org,2002:timestamp":
        return error(
            "invalid-value",
            path,
            f"found {scalar.value}, which is not a real date or time ({exc})",
            "a date such as 2026-11-25, or a time such as 2026-11-25T12:00:00Z",
        )
    kind = str(scalar.tag).rsplit(":", 1)[-1]
    shown = quoted(scalar.value, limit=40)
    # The exception repeats the value: left out when the value is not shown either.
    why = f" ({_first_line(exc)})" if shown.startswith(("'", '"')) else ""
    return error(
        "invalid-value",
        path,
        f"found {shown}, which cannot be read as {kind}{why}",
        f"a valid {kind}, or quotes around the value to make it a text",
    )


def _scalar_nodes(
    node: Node, path: FieldPath, seen: set[int]
) -> Iterator[tuple[FieldPath, ScalarNode]]:
    """Every scalar with its path, each node once however often aliases repeat it."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, ScalarNode):
        yield path, node
    elif isinstance(node, MappingNode):
        for key, value in node.value:
            yield from _scalar_nodes(key, path, seen)
            yield from _scalar_nodes(value, (*path, _key_name(key)), seen)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            yield from _scalar_nodes(item, (*path, index), seen)


def _key_name(node: Node) -> str:
    return str(node.value) if isinstance(node, ScalarNode) else "?"


def _expanded_sizes(root: Node) -> dict[int, int]:
    """How many nodes each node stands for once its aliases are copied out, by id; one entry
    per node written in the file. Without recursion, and in time linear in the file."""
    sizes: dict[int, int] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_known = stack.pop()
        if id(node) in sizes:
            continue
        if children_known:
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in _children(node))
        else:
            stack.append((node, True))
            stack += [(child, False) for child in _children(node) if id(child) not in sizes]
    return sizes


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [child for pair in node.value for child in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
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
    ("simple key", "a key and ': ' on one line (a key is at most 1024 characters long)"),
)


def _yaml_problem(exc: YAMLError, text: str, file: str) -> Problem:
    if isinstance(exc, MaxDepthExceededError):
        mark = exc.problem_mark
        problem = error(
            "yaml-syntax",
            (),
            f"the file nests more than {MAX_DEPTH} levels deep",
            "a campaign file's shape (see docs/campaign-format.md)",
        )
        if mark is None:
            return problem.located(file, None, None)
        return problem.located(file, mark.line + 1, mark.column + 1)
    if isinstance(exc, _TooManyNodes):
        problem = error(
            "yaml-syntax",
            (),
            f"the file holds more than {MAX_NODES:,} values",
            "a campaign of a reasonable size (a 2,000-embassy campaign holds about 85,000)",
        )
        return problem.located(file, exc.problem_mark.line + 1, exc.problem_mark.column + 1)
    if isinstance(exc, MarkedYAMLError):
        return _syntax_problem(exc, file)
    if isinstance(exc, ReaderError) and isinstance(exc.character, int):
        problem = error(
            "yaml-syntax",
            (),
            f"not valid YAML: the character U+{exc.character:04X} is not allowed in the file",
            "printable text (most editors do not show this character: delete it and retype)",
        )
        return problem.located(file, *_line_column(text, exc.position))
    return error("yaml-syntax", (), f"not valid YAML: {_first_line(exc)}").located(file, None, None)


def _first_line(exc: Exception) -> str:
    """One line of an exception's message: a problem is reported on a single line."""
    lines = str(exc).splitlines()
    return lines[0][:200] if lines else type(exc).__name__


_LONG_ESCAPE = re.compile(r"\\U([0-9A-Fa-f]{8})")


def _bad_escape(text: str, file: str) -> Problem:
    """The first '\\U' escape that names no character (above U+10FFFF)."""
    for match in _LONG_ESCAPE.finditer(text):
        if int(match[1], 16) > sys.maxunicode:
            problem = error(
                "yaml-syntax",
                (),
                f"not valid YAML: {match[0]} is not a character",
                "an escape from \\U00000000 to \\U0010FFFF",
            )
            return problem.located(file, *_line_column(text, match.start()))
    problem = error("yaml-syntax", (), "not valid YAML: an escape sequence names no character")
    return problem.located(file, None, None)


def _line_column(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of the character at ``index``."""
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


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


def _duplicate_keys(
    node: Node, path: FieldPath, source: SourceMap, done: set[int]
) -> list[Problem]:
    """Keys given twice in one mapping; a mapping repeated by aliases is looked at once."""
    if id(node) in done:
        return []
    done.add(id(node))
    found: list[Problem] = []
    if isinstance(node, MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = _key_name(key_node)
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
            found += _duplicate_keys(value_node, (*path, key), source, done)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            found += _duplicate_keys(item, (*path, index), source, done)
    return found


class _TooDeep(Exception):
    """Aliases nest the document deeper than the file itself shows."""

    def __init__(self, path: FieldPath) -> None:
        super().__init__(path)
        self.path = path


class _Flattener:
    """Copies ruamel's document into plain values, recording where each one stands. An alias
    shares one object in ruamel's document and becomes a copy here."""

    def __init__(self, source: SourceMap) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def plain(self, value: Any, path: FieldPath) -> Any:
        if len(path) > MAX_DEPTH:
            raise _TooDeep(path)
        if path == ():
            self.source.values[()] = _own_position(value)
        if isinstance(value, CommentedMap):
            plain = {}
            for key, item in value.items():
                if isinstance(key, str):
                    plain[str(key)] = self._item(value, key, item, path)
                else:  # reported here, where the key's own line is known, and left out
                    self.problems.append(self._not_a_name(value, key, path))
            return plain
        if isinstance(value, CommentedSeq):
            items = []
            for index, item in enumerate(value):
                position = _recorded(value.lc.data, index) or self.source.values[path]
                self.source.values[(*path, index)] = position[0], position[1]
                items.append(self.plain(item, (*path, index)))
            return items
        return _scalar(value)

    def _not_a_name(self, mapping: CommentedMap, key: Any, path: FieldPath) -> Problem:
        """A key that YAML reads as a number, true/false, a date, nothing or a collection."""
        if isinstance(key, bool):
            found = f"the key {str(key).lower()} is true/false"
        elif isinstance(key, int | float):
            found = f"the key {key} is a number"
        elif isinstance(key, dt.date):
            found = f"the key {key.isoformat()} is a date"
        elif key is None:
            found = "a key is empty (null or ~)"
        elif isinstance(key, tuple | list):
            found = "a key is a list"
        else:
            found = "a key is a mapping"
        problem = error(
            "wrong-type",
            path,
            found,
            "a key name written as text (in quotes if it looks like a number, a date or true)",
        )
        here = self.source.values.get(path, (0, 0))
        line, column = (_key_position(mapping, key) or [*here])[:2]
        return problem.located(self.source.file, line + 1, column + 1)

    def _item(self, mapping: CommentedMap, key: Any, item: Any, path: FieldPath) -> Any:
        child = (*path, str(key))
        here = self.source.values[path]
        key_line, key_col, value_line, value_col = _key_position(mapping, key) or [*here, *here]
        self.source.keys[child] = (key_line, key_col)
        # ruamel places an empty value at the next token, often on a later line
        self.source.values[child] = (key_line, key_col) if item is None else (value_line, value_col)
        return self.plain(item, child)


def _own_position(value: Any) -> Position:
    """Where a collection starts; (0, 0) for a scalar, or when ruamel recorded nothing."""
    lc = getattr(value, "lc", None)
    line, column = getattr(lc, "line", None), getattr(lc, "col", None)
    return (line, column) if isinstance(line, int) and isinstance(column, int) else (0, 0)


def _key_position(mapping: CommentedMap, key: Any) -> list[int] | None:
    """Key line, key column, value line, value column; a key that a merge ('<<: *name') brought
    in stands where its anchored mapping gives it."""
    found = _recorded(mapping.lc.data, key)
    for merged in getattr(mapping, "merge", None) or []:
        if found is not None:
            break
        merged = merged[1] if isinstance(merged, tuple) else merged  # ruamel < 0.19: (at, map)
        if isinstance(merged, CommentedMap) and key in merged:
            found = _key_position(merged, key)
    return found


def _recorded(table: Any, key: Any) -> list[int] | None:
    """The line and column ruamel recorded for ``key``: nothing for a collection built under
    a tag it does not know, such as '!!python/object/apply'."""
    try:
        return [int(number) for number in table[key]]
    except (TypeError, KeyError, IndexError, ValueError):
        return None


def _too_deep(path: FieldPath, source: SourceMap) -> Problem:
    problem = error(
        "yaml-syntax",
        (),  # the path, 51 steps of aliases, would say less than the line
        f"aliases (*name) nest the file more than {MAX_DEPTH} levels deep",
        "a campaign file's shape (see docs/campaign-format.md)",
    )
    line, column = source.position(path) or (0, 0)
    return problem.located(source.file, line + 1, column + 1)


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
    if isinstance(value, bytes):
        return BinaryData(len(value))
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value
