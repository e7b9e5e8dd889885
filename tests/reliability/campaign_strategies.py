"""Campaign files for hypothesis: the real shape, damaged at random.

A case starts from one of three seed campaigns in the shape of tests/campaign_builders.py (the
builders' default, a rich one with threads, variants, images, targets and policies, and a minimal
one), applies a few mutations to its data (wrong types, missing, unknown or duplicated keys, bad
references, hostile text, deep nesting, or harmless edits that keep it valid), writes it as YAML
and sometimes damages the text or its bytes as well (a tab, a duplicated line, an alias, a cut, a
stray byte). About a third of the files stay valid, so preview and sync run on valid files too.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from campaign_builders import (
    Data,
    campaign_data,
    default_embassies,
    embassy,
    image,
    post,
)
from hypothesis import strategies as st
from pydantic import BaseModel
from ruamel.yaml import YAML

from scheduler.campaign.model import CampaignFile

Path_ = tuple[str | int, ...]
Draw = Callable[[st.SearchStrategy[Any]], Any]


@dataclass(frozen=True)
class Raw:
    """YAML written as is where a value or key goes: tags, aliases, escapes the dumper would
    never produce."""

    text: str


@dataclass(frozen=True)
class CampaignCase:
    steps: tuple[str, ...]
    """What was done to the seed, for the report of a failing case."""
    content: bytes

    def __repr__(self) -> str:
        shown = self.content if len(self.content) < 3000 else self.content[:3000] + b"..."
        return f"CampaignCase(steps={self.steps!r}, content={shown!r})"


# Seeds


def _rich_seed() -> Data:
    embassies = [
        *default_embassies(),
        embassy(
            "be-kathmandu",
            "Asia/Kathmandu",
            ["en"],
            platforms=("x", "mastodon"),
            region="asia",
            variables={"team": "The Embassy of Belgium in Nepal"},
            posting_times={"morning": "08:15", "evening": "19:45"},
        ),
    ]
    text = {"en": "{embassy}: part {n}.", "fr": "{embassy} : partie {n}.", "ja": "{embassy} {n}"}
    thread: list[Data] = [
        {"text": {k: v.replace("{n}", str(n)) for k, v in text.items()}} for n in (1, 2)
    ]
    thread[1]["images"] = [image(alt={"en": "A card.", "fr": "Une carte.", "ja": "カード"})]
    posts = [
        post("launch", images=[image(alt={"en": "A card.", "fr": "Une carte.", "ja": "カード"})]),
        post(
            "facts",
            date=dt.date(2026, 11, 27),
            time="evening",
            hashtags=["#OrangeTheWorld"],
            content_warning={"en": "Violence", "fr": "Violence", "ja": "暴力"},
            visibility="unlisted",
            targets={"regions": ["asia", "europe"]},
        ),
        post("thread", day=3, time="07:30", thread=thread),
        post(
            "live",
            at=dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC),
            late_grace="10m",
            targets={"embassies": ["be-tokyo", "be-paris"], "platforms": ["mastodon", "bluesky"]},
        ),
        post(
            "x-only",
            day=5,
            variants={
                "x": {"en": "On X, {embassy}.", "fr": "Sur X, {embassy}.", "ja": "X {embassy}"}
            },
            replies="following",
            targets={"platforms": ["x"], "exclude": ["be-paris"]},
        ),
    ]
    policies = {
        "language_fallback": "default-language",
        "late": {"grace": "45m", "spacing": "2m"},
        "approval": {"required": True, "two_person_rule": True},
        "clock_changes": {"gap": "shift-forward", "fold": "earlier"},
    }
    return campaign_data(
        posts=posts,
        embassies=embassies,
        hashtags=["#OrangeTheWorld"],
        description="A campaign for the reliability harness.",
        policies=policies,
    )


def _minimal_seed() -> Data:
    only = {
        "id": "be-dakar",
        "name": "Embassy of Belgium in Senegal",
        "country": "Senegal",
        "timezone": "Africa/Dakar",
        "languages": ["fr"],
        "accounts": {
            "mastodon": {"handle": "@be", "instance": "https://m.example", "credentials": "c"}
        },
    }
    return {
        "campaign": {
            "id": "minimal",
            "name": "M",
            "window": {"start": "2026-11-25", "end": "2026-11-25"},
        },
        "embassies": [only],
        "posts": [{"id": "p", "day": 1, "text": {"fr": "Bonjour."}}],
    }


SEEDS: dict[str, Callable[[], Data]] = {
    "builders": campaign_data,
    "rich": _rich_seed,
    "minimal": _minimal_seed,
}


# Values


def _model_keys(model: type[BaseModel], found: set[str]) -> set[str]:
    for name, info in model.model_fields.items():
        found.add(info.alias or name)
        for candidate in _models_in(info.annotation):
            _model_keys(candidate, found)
    return found


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for argument in getattr(annotation, "__args__", ()):
        yield from _models_in(argument)


KNOWN_KEYS = sorted(_model_keys(CampaignFile, set()))
"""Every key of the format, from the models: a known key in the wrong place is a good mistake."""

NASTY_TEXTS = [
    "",
    " ",
    "\t",
    "   padded   ",
    "x" * 300,  # over X's 280
    "x" * 5_000,
    "🇧🇪" * 200,
    "👩‍👩‍👧‍👦 🏳️‍🌈 🇧🇪",  # zero-width joiners
    "e\u0301" * 100,  # combining accents
    "Z̵̡̢̛̖͉̈́͌a̸̢̛͈̓l̴̨͇̈́g̷̣̈́o̶͚̍",
    "مرحبا {embassy}",  # right to left
    "שלום {country}",
    "\u202eevil\u202c",  # right-to-left override
    "zero\u200bwidth",
    "\ufeffbom inside",
    "\x00",
    "nul\x00inside",
    "\x1b[31mred\x1b[0m",
    "bell\x07",
    "del\x7f",
    "next line\x85",
    "line\u2028separator",
    "null",
    "~",
    "yes",
    "off",
    "NaN",
    "1e3",
    "0x1F",
    "09:00",
    "24:00",
    "9:30",
    "2026-11-25",
    "2026-02-30",
    "{embassy}",
    "{nope}",
    "{",
    "}{",
    "{{embassy}}",
    "#",
    "#orangetheworld",
    "@someone",
    "https://example.org/" + "a" * 200,
    "<script>alert(1)</script>",
    "'; DROP TABLE deliveries; --",
    "%s%n%x",
    "../../etc/passwd",
    "/etc/passwd",
    "media",
    "C:\\Windows\\card.png",
    "A" * 30 + "b1c2d3e4f5g6h7i8j9k0",  # the shape of an X bearer token
    "abcd-efgh-ijkl-mnop",  # the shape of a Bluesky app password
]

REAL_ZONES = [
    "Europe/Brussels",
    "Asia/Tokyo",
    "Asia/Kathmandu",
    "America/St_Johns",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "Africa/Kinshasa",
    "UTC",
]

BAD_ZONES = [
    "CET ",
    "UTC+1",
    "Mars/Olympus",
    "../../etc/passwd",
    "/etc/localtime",
    "Europe/",
    "x" * 80,
]

RAW_VALUES = [
    '"\\0"',
    '"\\ud800"',
    '"\\U0001F600"',
    '"\\UFFFFFFFF"',
    '"\\U00110000"',
    '"\\x1b[0m"',
    "!!binary aGVsbG8=",
    "!!python/object/apply:os.system ['true']",
    "!!python/name:os.system ''",
    "!foo bar",
    "!!int abc",
    "!!bool maybe",
    "!!float x",
    "!!timestamp tomorrow",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!!map [1]",
    "*undefined",
    "&anchor [1, 2]",
    "2026-02-30",
    "2026-11-25T25:00:00Z",
    "2026-11-25t10:00:00+99:00",
    "2026-13-01",
    "0001-01-01",
    "9999-12-31",
    "1764028800",
    "20261125",
    "12:30",
    "0o17",
    "0b101",
    "1_000",
    "0x" + "F" * 4400,
    "9" * 4400,
    ".inf",
    "-.inf",
    ".nan",
    "~",
    "[]",
    "{}",
    "''",
    "[" * 60 + "]" * 60,
    "{a: {b: {c: {d: [1, {e: 2}]}}}}",
    "{<<: 5}",
]

RAW_KEYS = [
    "[a, b]",
    "{a: 1}",
    "~",
    "null",
    "1",
    "-1",
    "1.5",
    ".nan",
    "true",
    "2026-11-25",
    '"\\0"',
    "<<",
]

OFFSETS = [dt.UTC, dt.timezone(dt.timedelta(hours=14)), dt.timezone(-dt.timedelta(hours=12))]


def texts() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(NASTY_TEXTS),
        st.text(max_size=30),  # any code point but surrogates: controls, NUL, unassigned
        st.text(st.characters(min_codepoint=0x590, max_codepoint=0x6FF), min_size=1, max_size=20),
        st.text(st.characters(categories=["Mn", "Me", "Cf", "Zs"]), min_size=1, max_size=10),
        st.text(st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF), max_size=10),
    )


def _scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.sampled_from([0, -1, 2**31, 2**63, 10**30, 100_001]),
        st.floats(),
        texts(),
        st.dates(),
        st.datetimes(timezones=st.sampled_from(OFFSETS)),
        st.datetimes(),
        st.builds(Raw, st.sampled_from(RAW_VALUES)),
    )


def values() -> st.SearchStrategy[Any]:
    """Anything a key could be given: scalars of every kind, small lists and mappings."""
    return st.recursive(
        _scalars(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys(), inner, max_size=3),
        max_leaves=6,
    )


def keys() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(KNOWN_KEYS),
        st.builds(_typo, st.sampled_from(KNOWN_KEYS), st.integers(0, 20)),
        texts(),
        st.integers(-2, 2),
        st.builds(Raw, st.sampled_from(RAW_KEYS)),
    )


def _typo(key: str, where: int) -> str:
    where %= len(key)
    return key[:where] + key[where + 1 :] if len(key) > 2 else key + "s"


# Walking the document


def _walk(node: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, (*path, index))


def _get(document: Data, path: Path_) -> Any:
    node: Any = document
    for step in path:
        node = node[step]
    return node


def _pick(draw: Draw, document: Data, wanted: Callable[[Path_, Any], bool]) -> Path_ | None:
    paths = [path for path, node in _walk(document) if wanted(path, node)]
    return draw(st.sampled_from(paths)) if paths else None


def _put(document: Data, path: Path_, value: Any) -> None:
    _get(document, path[:-1])[path[-1]] = value


# Mutations of the data: each changes ``document`` in place and says what it did.


def replace_value(draw: Draw, document: Data) -> str:
    path = _pick(draw, document, lambda path, _: bool(path))
    if path is None:
        return "nothing to replace"
    value = draw(values())
    _put(document, path, value)
    return f"replace {path} with {_short(value)}"


def remove_key(draw: Draw, document: Data) -> str:
    path = _pick(draw, document, lambda path, _: bool(path) and isinstance(path[-1], str))
    if path is None:
        return "no key to remove"
    del _get(document, path[:-1])[path[-1]]
    return f"remove {path}"


def add_key(draw: Draw, document: Data) -> str:
    path = _pick(draw, document, lambda _, node: isinstance(node, dict))
    key, value = draw(keys()), draw(values())
    _get(document, path or ())[key] = value
    return f"add {_short(key)}: {_short(value)} at {path}"


def duplicate_item(draw: Draw, document: Data) -> str:
    path = _pick(draw, document, lambda _, node: isinstance(node, list) and bool(node))
    if path is None:
        return "no list to grow"
    items = _get(document, path)
    items.append(copy.deepcopy(draw(st.sampled_from(items))))
    return f"duplicate an item of {path}"


def reshape(draw: Draw, document: Data) -> str:
    """A list where a mapping goes, a mapping where a list goes, a value wrapped or unwrapped."""
    path = _pick(draw, document, lambda path, _: bool(path))
    if path is None:
        return "nothing to reshape"
    node = _get(document, path)
    shapes: list[Any] = [[node], {"value": node}]
    if isinstance(node, dict):
        shapes.append(list(node.values()))
    if isinstance(node, list) and node:
        shapes.append(node[0])
    _put(document, path, draw(st.sampled_from(shapes)))
    return f"reshape {path}"


def nest(draw: Draw, document: Data) -> str:
    path = _pick(draw, document, lambda path, _: bool(path))
    if path is None:
        return "nothing to nest"
    depth = draw(st.integers(1, 80))
    value: Any = _get(document, path)
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    _put(document, path, value)
    return f"nest {path} {depth} levels deep"


def bad_reference(draw: Draw, document: Data) -> str:
    """A name that points nowhere: an embassy, region, tag, posting time, time zone or image."""
    key, value = draw(
        st.sampled_from(
            [
                ("time", "noon"),
                ("time", "25:00"),
                ("embassies", ["be-nowhere"]),
                ("exclude", ["be-nowhere"]),
                ("regions", ["atlantis"]),
                ("tags", ["g8"]),
                ("platforms", ["myspace"]),
                ("file", "media/missing.png"),
                ("file", "../outside.png"),
                ("file", "/etc/passwd"),
                ("file", "media"),
                ("default_language", "xx"),
                ("timezone", draw(st.sampled_from(BAD_ZONES))),
            ]
        )
    )
    path = _pick(draw, document, lambda path, _: bool(path) and path[-1] == key)
    if path is None:
        path = _pick(draw, document, lambda _, node: isinstance(node, dict))
        path = (*(path or ()), key)
    _put(document, path, value)
    return f"point {path} at {_short(value)}"


def benign(draw: Draw, document: Data) -> str:
    """A change that keeps a valid file valid: sync and preview need valid files too."""
    choice = draw(st.integers(0, 6))
    if choice == 0:
        return _set_where(draw, document, "day", draw(st.integers(1, 16)))
    if choice == 1:
        clock = f"{draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}"
        return _set_where(draw, document, "time", clock)
    if choice == 2:
        return _set_where(draw, document, "timezone", draw(st.sampled_from(REAL_ZONES)))
    if choice == 3:
        text = draw(
            st.text(st.characters(categories=["L", "N", "Zs", "So"]), min_size=1, max_size=60)
        )
        return _set_where(draw, document, "en", text.strip() or "x")
    if choice == 4:
        return _set_where(
            draw, document, "visibility", draw(st.sampled_from(["public", "private"]))
        )
    if choice == 5:
        return _set_where(draw, document, "grace", draw(st.sampled_from(["0m", "90s", "2h", "1d"])))
    longest = "x" * 60 + str(draw(st.integers(1000, 9999)))  # 64 characters: the store's limit
    return _set_where(draw, document, "id", longest)


def _set_where(draw: Draw, document: Data, key: str, value: Any) -> str:
    path = _pick(draw, document, lambda path, _: bool(path) and path[-1] == key)
    if path is not None:
        _put(document, path, value)
    return f"set {path} to {_short(value)}"


def hostile_text(draw: Draw, document: Data) -> str:
    path = _pick(draw, document, lambda path, node: bool(path) and isinstance(node, str))
    if path is None:
        return "no text"
    text = draw(texts())
    _put(document, path, text)
    return f"text {path} = {_short(text)}"


MUTATIONS = [
    replace_value,
    remove_key,
    add_key,
    duplicate_item,
    reshape,
    nest,
    bad_reference,
    benign,
    hostile_text,
]


# Writing it, and damaging the text


def to_yaml(document: Data) -> str:
    raws: dict[str, str] = {}
    counter = itertools.count()

    def hide(node: Any) -> Any:
        if isinstance(node, Raw):
            placeholder = f"rawyaml{next(counter)}placeholder"
            raws[placeholder] = node.text
            return placeholder
        if isinstance(node, dict):
            return {hide(key): hide(value) for key, value in node.items()}
        if isinstance(node, list):
            return [hide(item) for item in node]
        return node

    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    stream = io.StringIO()
    yaml.dump(hide(document), stream)
    text = stream.getvalue()
    for placeholder, raw in raws.items():
        text = text.replace(placeholder, raw)
    return text


@st.composite
def damaged(draw: Draw, text: str) -> tuple[bytes, str]:
    """The YAML text, damaged once as text or as bytes."""
    lines = text.splitlines(keepends=True)
    where = draw(st.integers(0, max(len(lines) - 1, 0)))
    line = lines[where] if lines else ""
    kind = draw(
        st.sampled_from(
            ["char", "drop", "twice", "cut", "indent", "alias", "bom", "documents", "bytes"]
        )
    )
    if kind == "char":
        char = draw(
            st.sampled_from(
                [
                    "\t",
                    ":",
                    '"',
                    "'",
                    "[",
                    "{",
                    "&",
                    "*",
                    "!",
                    "%",
                    "@",
                    "`",
                    "|",
                    ">",
                    "#",
                    "\x00",
                    "\ufeff",
                    "\\",
                ]
            )
        )
        column = draw(st.integers(0, len(line)))
        lines[where : where + 1] = [line[:column] + char + line[column:]]
    elif kind == "drop":
        del lines[where : where + 1]
    elif kind == "twice":
        lines[where:where] = [line]
    elif kind == "cut":
        return text[: draw(st.integers(0, len(text)))].encode(), "cut"
    elif kind == "indent":
        lines[where : where + 1] = [draw(st.sampled_from([" ", "\t", "  "])) + line]
    elif kind == "alias":
        lines = _alias(draw, lines)
    elif kind == "bom":
        return ("\ufeff" + text).encode(), "bom"
    elif kind == "documents":
        return (text + "---\n" + text).encode(), "documents"
    else:
        raw = "".join(lines).encode()
        at = draw(st.integers(0, len(raw)))
        stray = draw(
            st.sampled_from([b"\xff", b"\xc3\x28", b"\xc0\xaf", b"\xed\xa0\x80", b"\xfe\xff"])
        )
        return raw[:at] + stray + raw[at:], f"bytes {stray!r} at {at}"
    return "".join(lines).encode(), f"{kind} at line {where + 1}"


def _alias(draw: Draw, lines: list[str]) -> list[str]:
    """Anchor one scalar and repeat it in a later place, where it may or may not fit."""
    scalars = [
        i for i, line in enumerate(lines) if ": " in line and not line.rstrip().endswith(":")
    ]
    if len(scalars) < 2:
        return lines
    first, later = sorted(
        draw(st.lists(st.sampled_from(scalars), min_size=2, max_size=2, unique=True))
    )
    key, value = lines[first].split(": ", 1)
    lines[first] = f"{key}: &shared {value}"
    lines[later] = lines[later].split(": ", 1)[0] + ": *shared\n"
    return lines


@st.composite
def campaign_files(draw: Draw) -> CampaignCase:
    seed = draw(st.sampled_from(sorted(SEEDS)))
    document = SEEDS[seed]()
    steps = [f"seed {seed}"]
    # One file in three gets harmless edits only, so that valid files are common too.
    hostile = draw(st.integers(0, 2)) > 0
    for _ in range(draw(st.integers(1 if hostile else 0, 3))):
        mutate = draw(st.sampled_from(MUTATIONS)) if hostile else benign
        steps.append(mutate(draw, document))
    text = to_yaml(document)
    if hostile and draw(st.integers(0, 3)) == 0:
        content, step = draw(damaged(text))
        steps.append(step)
    else:
        content = text.encode()
    return CampaignCase(tuple(steps), content)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
