"""Every mistake at once: check and plan what a file's mistakes leave intact.

A campaign whose shape is wrong cannot be typed, and a campaign with a wrong rule cannot be
planned as a whole; but a misspelt key in one post says nothing about the length of another
post's text, or about a missing image. So when the shape is wrong, the file is checked again as
it was most likely meant: a misspelt key read as the key it resembles ('txet' as 'text'), any
other unknown key left out, and every post that still has a mistake in its shape left out. The
problems found in what remains are reported beside the first ones, at the places the file gives
them. A mistake outside the posts (in the campaign or an embassy) still stops here: everything
planned depends on it.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scheduler.loader import LoadedCampaign, allowed_keys, path_of
from scheduler.model import CampaignFile
from scheduler.problems import FieldPath, Problem
from scheduler.sourcemap import SourceMap

ATTEMPTS = 3
"""How many times to leave out newly broken posts before giving up: a key read as the one it
resembles can break its post in a new way, once."""


@dataclass
class Reading:
    """How the file is read the second time, and how to map a path back to the file's own."""

    renames: dict[FieldPath, str] = field(default_factory=dict)
    """A misspelt key's path, as written, to the key it is read as."""
    dropped_keys: set[FieldPath] = field(default_factory=set)
    dropped_posts: set[int] = field(default_factory=set)
    kept_posts: list[int] = field(default_factory=list)
    """The written index of each post that remains, in order."""

    def forward(self, path: FieldPath) -> FieldPath | None:
        """A path as written, in the second reading; None if it was left out."""
        written: FieldPath = ()
        read: list[str | int] = []
        for step in path:
            here = (*written, step)
            if here in self.dropped_keys:
                return None
            read.append(self.renames.get(here, step))
            written = here
        if len(read) >= 2 and read[0] == "posts" and isinstance(read[1], int):
            if read[1] in self.dropped_posts:
                return None
            read[1] = self.kept_posts.index(read[1])
        return tuple(read)

    def back(self, path: FieldPath) -> FieldPath:
        """A path of the second reading, as the file writes it."""
        steps = list(path)
        if (
            len(steps) >= 2
            and steps[0] == "posts"
            and isinstance(steps[1], int)
            and steps[1] < len(self.kept_posts)
        ):
            steps[1] = self.kept_posts[steps[1]]
        reverse = {(*key[:-1], name): key[-1] for key, name in self.renames.items()}
        written: FieldPath = ()
        for step in steps:
            written = (*written, reverse.get((*written, step), step))
        return written


@dataclass(frozen=True)
class Salvaged:
    """What remains of a file once its mistakes are set aside, and how to report on it."""

    campaign: LoadedCampaign
    reading: Reading

    def restore(self, problem: Problem) -> Problem:
        return replace(problem, path=self.reading.back(problem.path))


def salvage(
    data: dict[str, Any], source: SourceMap, path: Path, broken: list[tuple[FieldPath, str]]
) -> Salvaged | None:
    """The campaign as it was most likely meant, without the posts whose shape is wrong, or
    None when a mistake outside the posts leaves nothing that can be checked on its own.
    ``broken`` holds where each mistake is and its kind ('extra_forbidden' for an unknown key,
    'parse' for a key YAML could not take)."""
    reading = Reading()
    for where, kind in broken:
        if kind == "extra_forbidden" and not _in_posts(where):
            _read_as_meant(data, where, reading)
        elif _in_posts(where):
            if kind == "extra_forbidden" and len(where) > 2:
                _read_as_meant(data, where, reading)
            else:
                reading.dropped_posts.add(int(where[1]))
        else:
            return None
    for _ in range(ATTEMPTS):
        candidate = _apply(data, reading)
        try:
            spec = CampaignFile.model_validate(candidate)
        except ValidationError as exc:
            found = [
                reading.back(path_of(detail["loc"])[0]) for detail in exc.errors(include_url=False)
            ]
            if not all(_in_posts(where) for where in found):
                return None
            reading.dropped_posts |= {int(where[1]) for where in found}
            continue
        loaded = LoadedCampaign(spec, _source_for(source, reading), path)
        return Salvaged(loaded, reading)
    return None


def _in_posts(where: FieldPath) -> bool:
    return len(where) >= 2 and where[0] == "posts" and isinstance(where[1], int)


def _read_as_meant(data: dict[str, Any], where: FieldPath, reading: Reading) -> None:
    """'txet' read as 'text' when that key is not there already; any other unknown key left
    out, as the model ignores it anyway."""
    mapping = _at(data, where[:-1])
    key = str(where[-1])
    if isinstance(mapping, dict):
        allowed = sorted(allowed_keys(where[:-1]) - set(map(str, mapping)))
        close = difflib.get_close_matches(key, allowed, n=1)
        if close:
            reading.renames[where] = close[0]
            return
    reading.dropped_keys.add(where)


def _at(data: Any, where: FieldPath) -> Any:
    for step in where:
        if isinstance(data, dict):
            data = data.get(step)
        elif isinstance(data, list) and isinstance(step, int) and 0 <= step < len(data):
            data = data[step]
        else:
            return None
    return data


def _apply(data: dict[str, Any], reading: Reading) -> dict[str, Any]:
    result: dict[str, Any] = copy.deepcopy(data)
    # Deepest first, so a rename inside a renamed mapping finds its parent under its old name.
    for where in sorted(reading.dropped_keys | set(reading.renames), key=len, reverse=True):
        parent = _at(result, where[:-1])
        if not isinstance(parent, dict) or where[-1] not in parent:
            continue
        value = parent.pop(where[-1])
        if where in reading.renames:
            parent[reading.renames[where]] = value
    posts = result.get("posts")
    if isinstance(posts, list):
        reading.kept_posts = [i for i in range(len(posts)) if i not in reading.dropped_posts]
        result["posts"] = [posts[i] for i in reading.kept_posts]
    return result


def _source_for(source: SourceMap, reading: Reading) -> SourceMap:
    """The source map in the second reading's paths, so its problems stand where the file
    wrote them."""
    mapped = SourceMap(source.file)
    for table, into in ((source.keys, mapped.keys), (source.values, mapped.values)):
        for written, position in table.items():
            read = reading.forward(written)
            if read is not None:
                into[read] = position
    return mapped


def without_posts(
    loaded: LoadedCampaign, dropped: set[int]
) -> tuple[LoadedCampaign, Callable[[Problem], Problem]]:
    """``loaded`` without the posts at ``dropped`` (a rule between their keys is broken), to plan
    the others; and the function that gives a problem found there its path in the file."""
    reading = Reading(dropped_posts=set(dropped))
    reading.kept_posts = [i for i in range(len(loaded.spec.posts)) if i not in dropped]
    posts = [loaded.spec.posts[i] for i in reading.kept_posts]
    spec = loaded.spec.model_copy(update={"posts": posts})
    reduced = LoadedCampaign(spec, _source_for(loaded.source, reading), loaded.path)
    salvaged = Salvaged(reduced, reading)
    return reduced, salvaged.restore
