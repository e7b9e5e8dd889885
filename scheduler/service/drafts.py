"""A post as a person fills it in, on the command line or in the dashboard's form, turned into
the campaign file's shape: the one builder behind `campaign queue add/edit` and the web form.

Pure: no database, so that the CLI may import it without loading the store. Messages name the
field the way the caller calls it (``--text`` for the CLI, ``text`` for the form)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scheduler.errors import UsageError

MAX_DRAFT_IMAGES = 4
"""Images a queued post may carry: the most any platform takes."""


@dataclass(frozen=True)
class DraftImage:
    file: str
    """Relative to the folder the post is queued from."""
    alt: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Draft:
    """What a person gave; empty values are left out of the post (its defaults then apply)."""

    texts: Mapping[str, str] = field(default_factory=dict)
    images: Sequence[DraftImage] = ()
    warnings: Mapping[str, str] = field(default_factory=dict)
    embassies: Sequence[str] = ()
    regions: Sequence[str] = ()
    tags: Sequence[str] = ()
    platforms: Sequence[str] = ()
    at: str | None = None
    """A local time ('2026-12-01 10:00') or an instant with an offset; None: next free slot."""
    at_name: str = "--at"
    """How the caller names ``at``, for its message."""
    replies: str | None = None
    visibility: str | None = None


def post_fields(draft: Draft) -> dict[str, Any]:
    """The fields given, as a post of the campaign file (without its id)."""
    fields: dict[str, Any] = {}
    if draft.texts:
        fields["text"] = dict(draft.texts)
    if draft.images:
        fields["images"] = [{"file": i.file, "alt": dict(i.alt)} for i in draft.images]
    if draft.warnings:
        fields["content_warning"] = dict(draft.warnings)
    targets = {
        "embassies": draft.embassies,
        "regions": draft.regions,
        "tags": draft.tags,
        "platforms": draft.platforms,
    }
    if any(targets.values()):
        fields["targets"] = {key: list(value) for key, value in targets.items() if value}
    if draft.at:
        fields.update(when(draft.at, draft.at_name))
    if draft.replies:
        fields["replies"] = draft.replies
    if draft.visibility:
        fields["visibility"] = draft.visibility
    return fields


def by_language(option: str, values: Iterable[str]) -> dict[str, str]:
    """``LANG=TEXT`` pairs as {language: text}."""
    found: dict[str, str] = {}
    for value in values:
        language, equals, text = value.partition("=")
        if not equals or not language.strip():
            raise UsageError(f"{option} {value!r}: expected LANG=TEXT, e.g. {option} 'en=Hello'")
        found[language.strip()] = text
    return found


def images_with_alts(files: Sequence[str], alts: Iterable[str]) -> list[DraftImage]:
    """``--image FILE`` and ``--alt [N:]LANG=TEXT`` (image N, default 1) as images."""
    found: list[dict[str, str]] = [{} for _ in files]
    for value in alts:
        number, colon, rest = value.partition(":")
        index = 1
        if colon and number.isdigit():
            index, value = int(number), rest
        if not 1 <= index <= len(files):
            raise UsageError(f"--alt {value!r}: there is no image {index}; give --image first")
        found[index - 1].update(by_language("--alt", (value,)))
    return [DraftImage(file, alt) for file, alt in zip(files, found, strict=True)]


def when(text: str, option: str = "--at") -> dict[str, Any]:
    """A local time as the post's date and time; an instant with an offset as its ``at``."""
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError as exc:
        raise UsageError(
            f"{option} {text!r}: expected a local time like '2026-12-01 10:00', or an instant "
            "like '2026-12-01T10:00+01:00'"
        ) from exc
    if moment.tzinfo is not None:
        return {"at": moment.isoformat()}
    return {"date": moment.date().isoformat(), "time": moment.strftime("%H:%M")}


def new_post_id(day: dt.date) -> str:
    """An id for a post queued without one: q-DATE-XXXX."""
    return f"q-{day:%Y%m%d}-{secrets.token_hex(2)}"
