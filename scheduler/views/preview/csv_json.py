"""JSON and CSV previews, for scripts and spreadsheets."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from json import encoder
from typing import Any

from scheduler.campaign.planner import Delivery, Plan
from scheduler.campaign.sourcemap import SourceMap
from scheduler.problems import Problem
from scheduler.views.preview import Summary, delivery_record

CSV_COLUMNS = [
    "id",
    "post",
    "embassy",
    "platform",
    "account",
    "part",
    "parts",
    "due_utc",
    "local_time",
    "timezone",
    "utc_offset",
    "language",
    "length",
    "limit",
    "content_warning",
    "visibility",
    "replies",
    "media",
    "alt_texts",
    "source_line",
    "text",
]


def json_chunks(
    plan: Plan,
    deliveries: Iterable[Delivery],
    summary: Summary,
    problems: list[Problem],
    source: SourceMap | None = None,
) -> Iterator[str]:
    """The JSON preview, a piece at a time: the text of
    ``json.dumps(document, indent=2, ensure_ascii=False) + "\n"``, never the whole of it in
    memory (at 384,000 deliveries that document took 4.9 GB)."""
    document: dict[str, Any] = {
        "campaign": {
            "id": plan.campaign_id,
            "name": plan.campaign_name,
            "start": plan.window_start.isoformat(),
            "end": plan.window_end.isoformat(),
        },
        "summary": summary.as_dict(),
        "problems": [problem.as_dict() for problem in problems],
        "deliveries": (delivery_record(delivery, source) for delivery in deliveries),
    }
    yield from _json_pieces(document, "")
    yield "\n"


def _json_pieces(value: object, indent: str) -> Iterator[str]:
    """``_indented_json(value, indent)`` a piece at a time: a mapping member by member, a list
    or an iterator item by item (each item made whole: a delivery, an account's day)."""
    inner = indent + "  "
    if isinstance(value, dict) and value:
        separator = "{\n"
        for key, item in value.items():
            yield f"{separator}{inner}{_key(key)}: "
            yield from _json_pieces(item, inner)
            separator = ",\n"
        yield f"\n{indent}}}"
    elif isinstance(value, list | Iterator):
        separator = "[\n"
        for item in value:
            yield f"{separator}{inner}{_indented_json(item, inner)}"
            separator = ",\n"
        yield "[]" if separator == "[\n" else f"\n{indent}]"
    else:
        yield _indented_json(value, indent)


_encode_string: Callable[[str], str] = encoder.encode_basestring
_CONSTANTS = {None: "null", True: "true", False: "false"}


@lru_cache(maxsize=256)
def _key(name: str) -> str:
    """A member's name as JSON: the few names of a record, encoded once each."""
    return _encode_string(name)


def _indented_json(value: object, indent: str) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False)`` as it reads ``indent`` deep, the
    first line unindented: the same text, several times sooner (json's own encoder does not use
    its C part when asked to indent)."""
    kind = type(value)
    if kind is str:
        return _encode_string(value)  # type: ignore[arg-type]
    if kind is int:
        return str(value)
    if value is None or kind is bool:
        return _CONSTANTS[value]  # type: ignore[index]
    if kind is dict and value:
        inner = indent + "  "
        members = (
            f"{inner}{_key(key)}: {_indented_json(item, inner)}"
            for key, item in value.items()  # type: ignore[attr-defined]
        )
        return "{\n" + ",\n".join(members) + f"\n{indent}}}"
    if kind is list and value:
        inner = indent + "  "
        items = (inner + _indented_json(item, inner) for item in value)  # type: ignore[attr-defined]
        return "[\n" + ",\n".join(items) + f"\n{indent}]"
    return json.dumps(value, ensure_ascii=False)


def to_json(
    plan: Plan,
    deliveries: Iterable[Delivery],
    summary: Summary,
    problems: list[Problem],
    source: SourceMap | None = None,
) -> str:
    return "".join(json_chunks(plan, deliveries, summary, problems, source))


def csv_chunks(deliveries: Iterable[Delivery], source: SourceMap | None = None) -> Iterator[str]:
    """The CSV preview, a row at a time."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    yield _taken(out)
    for delivery in deliveries:
        record = delivery_record(delivery, source)
        record["alt_texts"] = " | ".join(item["alt"] for item in record["media"])
        record["media"] = " | ".join(item["file"] for item in record["media"])
        record["content_warning"] = record["content_warning"] or ""
        writer.writerow(record)
        yield _taken(out)


def _taken(out: io.StringIO) -> str:
    """What was written to ``out`` since last time, and ``out`` emptied."""
    text = out.getvalue()
    out.seek(0)
    out.truncate()
    return text


def to_csv(deliveries: Iterable[Delivery], source: SourceMap | None = None) -> str:
    return "".join(csv_chunks(deliveries, source))
