"""Every mistake at once: check and plan what a file's mistakes leave intact.

A campaign whose shape is wrong cannot be typed, and a campaign with a wrong rule cannot be
planned as a whole; but a misspelt key in one post says nothing about the length of another
post's text, or about a missing image. So when the shape is wrong, the file is checked again as
it was most likely meant: a misspelt key read as the key it resembles ('txet' as 'text'), any
other unknown key left out, and every post or embassy that still has a mistake in its shape left
out. The problems found in what remains are reported beside the first ones, at the places the
file gives them. A mistake in 'campaign' itself still stops here: everything planned depends
on it.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scheduler.campaign.loader import LoadedCampaign, allowed_keys, path_of
from scheduler.campaign.model import CampaignFile
from scheduler.campaign.sourcemap import SourceMap
from scheduler.problems import FieldPath, Problem

ATTEMPTS = 3
"""How many times to leave out newly broken posts before giving up: a key read as the one it
resembles can break its post in a new way, once."""


SECTIONS = ("posts", "embassies")
"""The lists whose items can be left out one by one."""


@dataclass
class Reading:
    """How the file is read the second time, and how to map a path back to the file's own."""

    renames: dict[FieldPath, str] = field(default_factory=dict)
    """A misspelt key's path, as written, to the key it is read as."""
    dropped_keys: set[FieldPath] = field(default_factory=set)
    dropped: dict[str, set[int]] = field(default_factory=lambda: {name: set() for name in SECTIONS})
    """The written index of each post, and each embassy, left out."""
    kept: dict[str, list[int]] = field(default_factory=lambda: {name: [] for name in SECTIONS})
    """The written index of each post, and each embassy, that remains, in order."""
    _cache: dict[str, tuple[list[int], dict[int, int]]] = field(default_factory=dict, repr=False)

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
        section = _section(path)
        if section is not None:
            new_index = self._new_index(section).get(int(read[1]))
            if new_index is None:
                return None
            read[1] = new_index
        return tuple(read)

    def _new_index(self, section: str) -> dict[int, int]:
        """Written index -> index in the second reading, for the items that remain."""
        kept = self.kept[section]  # replaced, never changed in place
        cached = self._cache.get(section)
        if cached is None or cached[0] is not kept:
            cached = self._cache[section] = (kept, {old: new for new, old in enumerate(kept)})
        return cached[1]

    def back(self, path: FieldPath) -> FieldPath:
        """A path of the second reading, as the file writes it."""
        steps = list(path)
        section = _section(path)
        if section is not None and int(steps[1]) < len(self.kept[section]):
            steps[1] = self.kept[section][int(steps[1])]
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
    unchecked_names: frozenset[str] = frozenset()
    """The ids, regions and tags of the embassies left out: a post may name them."""

    def restore(self, problems: list[Problem]) -> list[Problem]:
        """Problems of the second reading at the file's own paths, without those that only
        say an embassy left out is missing."""
        return [
            replace(problem, path=self.reading.back(problem.path))
            for problem in problems
            if not self.names_a_left_out_embassy(problem)
        ]

    def names_a_left_out_embassy(self, problem: Problem) -> bool:
        """A post's target that only an embassy left out has: not a mistake of the post."""
        if problem.code != "unknown-reference":
            return False
        return _at(self.campaign.spec.model_dump(), problem.path) in self.unchecked_names


def salvage(
    data: dict[str, Any], source: SourceMap, path: Path, broken: list[tuple[FieldPath, str]]
) -> Salvaged | None:
    """The campaign as it was most likely meant, without the posts and embassies whose shape
    is wrong, or None when a mistake elsewhere (in 'campaign') leaves nothing that can be
    checked on its own. ``broken`` holds where each mistake is and its kind
    ('extra_forbidden' for an unknown key, 'parse' for one found while reading the YAML)."""
    reading = Reading()
    for where, kind in broken:
        section = _section(where)
        if kind == "extra_forbidden":
            _read_as_meant(data, where, reading)
        elif kind == "parse" and section is not None:
            reading.dropped[section].add(int(where[1]))  # the model cannot see a key given twice
        elif kind == "parse":
            return None
    # Other mistakes are found again below, as the file is now read: a 'credentials' missing
    # beside a misspelt 'credential' is there once the misspelling is read as meant.
    for _ in range(ATTEMPTS):
        candidate = _apply(data, reading)
        try:
            spec = CampaignFile.model_validate(candidate)
        except ValidationError as exc:
            found = [
                reading.back(path_of(detail["loc"])[0]) for detail in exc.errors(include_url=False)
            ]
            sections = [_section(where) for where in found]
            if None in sections:
                return None
            for where, section in zip(found, sections, strict=True):
                assert section is not None
                reading.dropped[section].add(int(where[1]))
            continue
        loaded = LoadedCampaign(spec, _source_for(source, reading), path)
        return Salvaged(loaded, reading, _names_of(data, reading.dropped["embassies"]))
    return None


def _section(where: FieldPath) -> str | None:
    """'posts' or 'embassies' when ``where`` is in one of their items."""
    if len(where) >= 2 and where[0] in SECTIONS and isinstance(where[1], int):
        return str(where[0])
    return None


def _names_of(data: dict[str, Any], embassies: set[int]) -> frozenset[str]:
    names: set[str] = set()
    for index in embassies:
        embassy = _at(data, ("embassies", index))
        if not isinstance(embassy, dict):
            continue
        for key in ("id", "region"):
            if isinstance(embassy.get(key), str):
                names.add(embassy[key])
        tags = embassy.get("tags")
        if isinstance(tags, list):
            names |= {tag for tag in tags if isinstance(tag, str)}
    return frozenset(names)


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
    for section in SECTIONS:
        items = result.get(section)
        if isinstance(items, list):
            dropped = reading.dropped[section]
            reading.kept[section] = [i for i in range(len(items)) if i not in dropped]
            result[section] = [items[i] for i in reading.kept[section]]
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


def without(
    loaded: LoadedCampaign, dropped: dict[str, set[int]]
) -> tuple[LoadedCampaign, Callable[[list[Problem]], list[Problem]]]:
    """``loaded`` without some of its posts and embassies (a rule between their keys is
    broken), to plan the others; and the function that gives the problems found there their
    paths in the file."""
    reading = Reading()
    lists: dict[str, list[Any]] = {"posts": loaded.spec.posts, "embassies": loaded.spec.embassies}
    update: dict[str, Any] = {}
    for section, items in lists.items():
        reading.dropped[section] = set(dropped.get(section, ()))
        reading.kept[section] = [i for i in range(len(items)) if i not in reading.dropped[section]]
        update[section] = [items[i] for i in reading.kept[section]]
    spec = loaded.spec.model_copy(update=update)
    reduced = LoadedCampaign(spec, _source_for(loaded.source, reading), loaded.path)
    return reduced, Salvaged(reduced, reading).restore
