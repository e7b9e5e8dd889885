"""Turn a campaign file into a validated :class:`CampaignFile`, or into located problems.

Every problem pydantic finds is translated into words a comms officer can act on: which key,
what was found, what was expected, with a "did you mean" for typos.
"""

from __future__ import annotations

import codecs
import difflib
import os
import stat
import types
import typing
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from scheduler.campaign.model import CampaignFile
from scheduler.campaign.sourcemap import SourceMap, parse_yaml
from scheduler.problems import FieldPath, Problem, error, quoted

MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class LoadedCampaign:
    """A campaign file whose structure and types are valid."""

    spec: CampaignFile
    source: SourceMap
    path: Path

    @property
    def folder(self) -> Path:
        return self.path.parent


@dataclass(frozen=True)
class Attempt:
    """A file whose shape is wrong, kept to check what its mistakes leave intact
    (scheduler.campaign.salvage)."""

    data: dict[str, Any]
    source: SourceMap
    path: Path
    broken: list[tuple[FieldPath, str]]
    """Where each mistake is, and its kind: pydantic's ('extra_forbidden' for an unknown key),
    or 'parse' for one found while reading (a key given twice, a value YAML could not build)."""


@dataclass(frozen=True)
class LoadResult:
    campaign: LoadedCampaign | None
    problems: list[Problem]
    attempt: Attempt | None = None


def load_file(path: Path) -> LoadResult:
    file = str(path)
    data, problem = _read_bytes(path)
    if problem is not None:
        return LoadResult(None, [problem.located(file, None, None)])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return LoadResult(
            None, [_not_utf8(data, exc).located(file, *_line_column(data, exc.start))]
        )
    return load_text(text, path)


def load_text(text: str, path: Path) -> LoadResult:
    parsed = parse_yaml(text, str(path))
    if parsed.data is None and not parsed.problems:
        empty = error(
            "empty-file",
            (),
            "the file is empty",
            "a campaign with 'campaign', 'embassies' and 'posts'",
        )
        return LoadResult(None, [parsed.source.locate(empty)])
    if parsed.data is None:
        return LoadResult(None, parsed.problems)
    if not isinstance(parsed.data, dict):
        wrong = error(
            "wrong-type",
            (),
            f"found {_describe(parsed.data)}",
            "a mapping with 'campaign', 'embassies' and 'posts'",
        )
        return LoadResult(None, [*parsed.problems, parsed.source.locate(wrong)])
    loaded = load_data(parsed.data, parsed.source, path)
    if parsed.problems or loaded.campaign is None:
        # A key that is not a name was left out of the data already; a key given twice, or a
        # value YAML could not build (read as its text instead), was not.
        broken = [(p.path, "parse") for p in parsed.problems if p.code != "wrong-type"]
        broken += loaded.attempt.broken if loaded.attempt is not None else []
        attempt = Attempt(parsed.data, parsed.source, path, broken)
        # A value already refused while reading is not refused again for its type.
        said = {p.path for p in parsed.problems if p.code == "invalid-value"}
        more = [p for p in loaded.problems if p.path not in said]
        return LoadResult(None, [*parsed.problems, *more], attempt)
    return loaded


def load_data(data: dict[str, Any], source: SourceMap, path: Path) -> LoadResult:
    """Validate plain data in the campaign file's shape, e.g. a stored campaign plus a post
    queued from the command line. ``path`` gives the folder that image paths are relative to."""
    try:
        spec = CampaignFile.model_validate(data)
    except ValidationError as exc:
        details = exc.errors(include_url=False)
        found = [_translate(detail, source) for detail in details]
        broken = [(path_of(detail["loc"])[0], detail["type"]) for detail in details]
        return LoadResult(None, found, Attempt(data, source, path, broken))
    return LoadResult(LoadedCampaign(spec, source, path), [])


def _read_bytes(path: Path) -> tuple[bytes, Problem | None]:
    try:
        # Opened without waiting, so a named pipe (FIFO) with no writer cannot block, and looked
        # at before reading: a campaign file is a regular file, never a pipe or a device.
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(handle, "rb") as stream:
            mode = os.fstat(stream.fileno()).st_mode
            if stat.S_ISDIR(mode):
                raise IsADirectoryError
            if not stat.S_ISREG(mode):
                return b"", error(
                    "file-unreadable",
                    (),
                    f"this is {_special_kind(mode)}, not a regular file",
                    "a campaign file",
                )
            # Read one byte past the limit rather than trust the size on disk: a file still
            # growing reports a size that says nothing.
            data = stream.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return b"", error("file-not-found", (), "no such file", "an existing campaign file")
    except IsADirectoryError:
        return b"", error("file-not-found", (), "this is a folder", "a campaign file")
    except PermissionError:
        return b"", error("file-unreadable", (), "permission denied", "a readable file")
    except OSError as exc:  # a symbolic link loop, a name too long, an I/O error...
        reason = (exc.strerror or type(exc).__name__).lower()
        return b"", error("file-unreadable", (), reason, "a readable file")
    if len(data) > MAX_FILE_BYTES:
        return b"", error("file-too-large", (), "the file is larger than 20 MB")
    return data, None


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def _not_utf8(data: bytes, exc: UnicodeDecodeError) -> Problem:
    encoding = next((name for bom, name in _BYTE_ORDER_MARKS if data.startswith(bom)), None)
    if encoding is not None:
        found = f"the file is in {encoding} (it starts with a {encoding} byte order mark)"
    else:
        found = f"the byte 0x{data[exc.start]:02X} here is not UTF-8 (byte {exc.start} of the file)"
    return error("encoding", (), found, "a UTF-8 text file")


def _line_column(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of the byte at ``offset``."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column


def _translate(detail: ErrorDetails, source: SourceMap) -> Problem:
    path, on_key = path_of(detail["loc"])
    kind = detail["type"]
    if kind == "extra_forbidden":
        return source.locate(_unknown_key(path), key=True)
    if kind == "missing":
        field = path[-1]
        problem = error("missing-key", path, f"'{field}' is missing", f"a value for '{field}'")
        return source.locate(problem)
    message = f"found {_describe(detail.get('input'))}"
    problem = error(_code(kind), path, message, _expected(detail))
    return source.locate(problem, key=on_key)


def path_of(loc: tuple[int | str, ...]) -> tuple[FieldPath, bool]:
    """pydantic marks an invalid dict key with a trailing '[key]' step."""
    steps = list(loc)
    on_key = bool(steps) and steps[-1] == "[key]"
    if on_key:
        steps.pop()
    return tuple(steps), on_key


def _unknown_key(path: FieldPath) -> Problem:
    key = str(path[-1])
    allowed = sorted(allowed_keys(path[:-1]))
    hint = difflib.get_close_matches(key, allowed, n=1)
    message = f"unknown key {quoted(key)}" + (f" (did you mean '{hint[0]}'?)" if hint else "")
    return error("unknown-key", path, message, "one of: " + ", ".join(allowed))


def allowed_keys(path: FieldPath) -> set[str]:
    """The keys the model accepts at ``path``, found by walking the model's annotations."""
    annotation: Any = CampaignFile
    for step in path:
        annotation = _step_into(annotation, step)
        if annotation is None:
            return set()
    model = _model_in(annotation)
    if model is None:
        return set()
    return {field.alias or name for name, field in model.model_fields.items()}


def _step_into(annotation: Any, step: str | int) -> Any:
    model = _model_in(annotation)
    if model is not None:
        field = model.model_fields.get(str(step))
        return field.annotation if field else None
    args = [arg for arg in typing.get_args(_strip_optional(annotation)) if arg is not type(None)]
    return args[-1] if args else None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    candidate = _strip_optional(annotation)
    if isinstance(candidate, type) and issubclass(candidate, BaseModel):
        return candidate
    return None


def _strip_optional(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return options[0] if len(options) == 1 else annotation
    if origin is typing.Annotated:
        return typing.get_args(annotation)[0]
    return annotation


_INSTANT = "a date and time with its UTC offset, such as 2026-11-25T12:00:00Z"
_EXPECTED = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "text (put quotes around it if it looks like a number or a date)",
    "list_type": "a list (lines starting with '- ')",
    "dict_type": "a mapping of keys to values",
    "model_type": "a mapping of keys to values",
    "model_attributes_type": "a mapping of keys to values",
    "date_type": "a date such as 2026-11-25",
    "date_parsing": "a date such as 2026-11-25",
    "date_from_datetime_parsing": "a date such as 2026-11-25",
    "date_from_datetime_inexact": "a date such as 2026-11-25, without a time",
    "datetime_type": _INSTANT,
    "datetime_parsing": _INSTANT,
    "datetime_from_date_parsing": _INSTANT,
    "string_too_short": "some text (it is empty)",
}


def _expected(detail: ErrorDetails) -> str:
    kind = detail["type"]
    ctx = detail.get("ctx") or {}
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    if kind == "value_error":
        return str(ctx.get("error", detail["msg"])).removeprefix("expected ")
    if kind == "enum":
        return f"one of: {ctx.get('expected', '')}".replace("'", "")
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        words = {
            "greater_than_equal": "at least",
            "less_than_equal": "at most",
            "greater_than": "more than",
            "less_than": "less than",
        }[kind]
        limit = next(iter(ctx.values()), "")
        return f"a number {words} {limit}"
    if kind == "too_short":
        return f"at least {ctx.get('min_length')} item(s)"
    return detail["msg"][0].lower() + detail["msg"][1:]


def _code(kind: str) -> str:
    if kind in ("value_error", "enum", "string_too_short", "too_short") or kind.startswith(
        ("greater", "less")
    ):
        return "invalid-value"
    return "wrong-type"


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, Enum):
        return repr(value.value)
    if isinstance(value, int | float):
        return f"the number {value}"
    text = str(value)
    return quoted(text, limit=60)
