"""The hostile inputs: a fixed list, each one a regression case with what people must be told.

Every case writes its input into a folder of its own and returns the path to give `campaign`.
Most start from the builders' campaign (tests/campaign_builders.py) with one line changed, and
name the line their problem must be reported at. Big inputs are generated at test time, never
committed.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from campaign_builders import campaign_data, write_png

from scheduler.campaign.loader import MAX_FILE_BYTES

from .campaign_strategies import to_yaml

BASE = to_yaml(campaign_data())
MIB = 2**20
MARKER = "python-was-run"
"""The file a YAML tag would create if the loader ran Python: it must never exist."""


@dataclass(frozen=True)
class Hostile:
    name: str
    make: Callable[[Path], Path]
    says: str
    """A piece of the message that must be printed."""
    exit_code: int = 1
    line: int | None = None
    """The line the problem must be reported at, when it has one."""
    memory_mib: int = 100
    """Bound on each command's peak memory: about not blowing up, not about size."""
    unprivileged: bool = False
    """Run as nobody: root reads any file, whatever its mode."""
    full_only: bool = False
    """Minutes of parsing: only in a full run (the quick run checks the same limit, made small)."""


def edit(old: str, new: str) -> str:
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def _write(folder: Path, data: bytes) -> Path:
    write_png(folder / "media" / "card.png")
    path = folder / "campaign.yaml"
    path.write_bytes(data)
    return path


def text_case(
    name: str, text: str, says: str, *, at: str | None = None, exit_code: int = 1
) -> Hostile:
    """``text`` as a UTF-8 file; ``at`` is a piece of the line the problem is on."""
    line = line_of(text, at) if at is not None else None
    return Hostile(name, lambda folder: _write(folder, text.encode()), says, exit_code, line)


def bytes_case(name: str, data: bytes, says: str, *, line: int | None = None) -> Hostile:
    return Hostile(name, lambda folder: _write(folder, data), says, line=line)


# Inputs built at test time


def billion_laughs() -> str:
    """Ten aliases of ten aliases, nine levels down: 10**9 values once expanded."""
    lines = [
        "x-laughs:",
        '  l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
    ]
    lines += [f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 10)]
    return "\n".join(lines) + "\n" + edit("  default_language: en\n", "  hashtags: *l9\n")


def alias_chain(length: int) -> str:
    """Each anchor holds an alias of the one before: nesting that no line of the file shows."""
    lines = ["x-chain:", "  a0: &a0 [x]"]
    lines += [f"  a{i}: &a{i} [*a{i - 1}]" for i in range(1, length + 1)]
    return "\n".join(lines) + "\n" + edit("  default_language: en\n", f"  hashtags: *a{length}\n")


def deep_block(folder: Path, depth: int = 5_000) -> Path:
    return _write(folder, "".join(" " * i + "a:\n" for i in range(depth)).encode())


def long_line(folder: Path, size: int = 50 * MIB) -> Path:
    """A campaign whose name is one line of ``size`` bytes, streamed to disk."""
    write_png(folder / "media" / "card.png")
    path = folder / "campaign.yaml"
    head, tail = BASE.split("Orange the World 2026", 1)
    with path.open("wb") as stream:
        stream.write(head.encode() + b'"')
        chunk = b"x" * MIB
        for _ in range(size // MIB):
            stream.write(chunk)
        stream.write(b'"' + tail.encode())
    return path


def many_tags(folder: Path, count: int) -> Path:
    """One embassy with ``count`` tags: a file of tiny values, the costliest kind to parse."""
    old = "  region: asia\n  tags:\n  - g7\n"
    assert BASE.count(old) == 1
    tags = "  region: asia\n  tags: [" + "g7, " * (count - 1) + "g7]\n"
    return _write(folder, BASE.replace(old, tags).encode())


def tiny_values_up_to_the_size_limit(folder: Path) -> Path:
    return many_tags(folder, (MAX_FILE_BYTES - len(BASE) - 100) // 4)


def folder_itself(folder: Path) -> Path:
    (folder / "campaign.yaml").mkdir(parents=True)
    return folder / "campaign.yaml"


def unreadable(folder: Path) -> Path:
    path = _write(folder, BASE.encode())
    # nobody must reach the file to be refused it: the folders above are root's alone
    for parent in (folder, *folder.parents):
        if str(parent) in ("/", "/tmp"):
            break
        parent.chmod(parent.stat().st_mode | 0o011)
    path.chmod(0)
    return path


def symlink_loop(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.yaml").symlink_to(folder / "b.yaml")
    (folder / "b.yaml").symlink_to(folder / "a.yaml")
    return folder / "a.yaml"


def dangling_symlink(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "campaign.yaml").symlink_to(folder / "gone.yaml")
    return folder / "campaign.yaml"


def endless_device(_folder: Path) -> Path:
    return Path("/dev/zero")  # says it holds 0 bytes, and never ends


def named_pipe(folder: Path) -> Path:
    """A FIFO that nothing writes to: opening it to read would wait forever."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "campaign.yaml"
    if not path.exists():
        os.mkfifo(path)
    return path


def image_name_too_long(folder: Path) -> Path:
    image = "  images:\n  - file: media/" + "a" * 300 + ".png\n    alt: {en: A card.}\n"
    return _write(folder, edit(_DAY, _DAY + image).encode())


# The corpus

_NAME = "  name: Orange the World 2026\n"
_DAY = "  day: 1\n"
_TEXT = "    en: '{embassy} stands with the campaign.'\n"
_START = "    start: '2026-11-25'\n"
_MERGED_EMBASSY = """\
- <<: *tokyo
  id: be-osaka
  name: Consulate General of Belgium in Osaka
  city: Osaka
  accounts:
    x:
      handle: '@be_osaka'
      credentials: be-osaka-x
"""

CORPUS = [
    text_case("billion-laughs", billion_laughs(), "repeat more than 100,000 values", at="l4: &l4"),
    text_case("alias-chain-60", alias_chain(60), "nest the file more than 50 levels deep"),
    text_case(
        "alias-loop", edit(_NAME, _NAME + "  hashtags: &t [*t]\n"), "contains itself", at="&t"
    ),
    text_case(
        "deep-flow-sequences",
        "campaign: " + "[" * 10_000 + "]" * 10_000,
        "more than 50 levels",
        at="campaign",
    ),
    text_case(
        "deep-flow-mappings",
        "campaign: " + "{a: " * 10_000 + "}" * 10_000,
        "more than 50 levels",
        at="campaign",
    ),
    Hostile("deep-block-mappings", deep_block, "more than 50 levels", line=50),
    Hostile("50-mb-line", long_line, "larger than 20 MB", memory_mib=500),
    Hostile(
        "199000-values",
        lambda folder: many_tags(folder, 199_000),
        "deliveries planned",
        exit_code=0,
        memory_mib=500,
        full_only=True,
    ),
    Hostile(
        "20-mb-of-tiny-values",
        tiny_values_up_to_the_size_limit,
        "more than 200,000 values",
        line=line_of(BASE, "  region: asia\n  tags:") + 1,
        memory_mib=500,
        full_only=True,
    ),
    bytes_case(
        "invalid-utf-8",
        BASE.encode().replace(b"Orange the", b"Orange \xff the"),
        "is not UTF-8",
        line=line_of(BASE, _NAME),
    ),
    bytes_case(
        "utf-8-overlong",
        BASE.encode().replace(b"Orange", b"Or\xc0\xafange"),
        "is not UTF-8",
        line=line_of(BASE, _NAME),
    ),
    bytes_case("utf-16-with-bom", BASE.encode("utf-16"), "the file is in UTF-16"),
    Hostile(
        "utf-8-bom-is-fine",
        lambda folder: _write(folder, b"\xef\xbb\xbf" + BASE.encode()),
        "deliveries planned",
        exit_code=0,
    ),
    text_case("crlf-is-fine", BASE.replace("\n", "\r\n"), "deliveries planned", exit_code=0),
    text_case(
        "nul-byte", edit(_NAME, "  name: Orange\x00\n"), "U+0000 is not allowed", at="Orange\x00"
    ),
    text_case(
        "escape-character",
        edit(_NAME, "  name: Orange\x1b[31m\n"),
        "U+001B is not allowed",
        at="Orange\x1b",
    ),
    text_case(
        "escaped-nul",
        edit(_TEXT, '    en: "{embassy}\\0 stands."\n'),
        "control character U+0000",
        at="\\0",
    ),
    text_case(
        "escaped-nul-in-the-name",
        edit(_NAME, '  name: "Orange\\0"\n'),
        "control character U+0000",
        at="Orange\\0",
    ),
    text_case(
        "control-characters-in-a-key",
        edit(_NAME, _NAME + '  "\\r\\e[2J\\u2028": 1\n'),
        "unknown key '\\r\\x1b[2J\\u2028'",  # quoted back, not obeyed by the terminal
        at='"\\r',
    ),
    text_case(
        "escaped-escape",
        edit(_TEXT, '    en: "\\e[31m{embassy}"\n'),
        "control character U+001B",
        at="\\e[",
    ),
    text_case(
        "escape-past-unicode",
        edit(_TEXT, '    en: "\\UFFFFFFFF"\n'),
        "\\UFFFFFFFF is not a character",
        at="\\UFFFF",
    ),
    text_case(
        "escape-just-past-unicode",
        edit(_TEXT, '    en: "\\U00110000"\n'),
        "\\U00110000 is not a character",
        at="\\U0011",
    ),
    text_case(
        "escape-lone-surrogate", edit(_TEXT, '    en: "\\ud800"\n'), "unicode string", at="\\ud800"
    ),
    text_case(
        "tag-python-apply",
        edit(_NAME, f"  name: !!python/object/apply:os.system ['touch {MARKER}']\n"),
        "found a list",
        at="!!python",
    ),
    text_case(
        "tag-python-name",
        edit(_NAME, "  name: !!python/name:os.system ''\n"),
        "campaign.name",
        at="!!python",
    ),
    text_case(
        "tag-binary",
        edit(_NAME, f"  name: !!binary {base64.b64encode(b'Orange').decode()}\n"),
        "!!binary",
        at="!!binary",
    ),
    text_case("tag-custom", edit(_NAME, "  name: !orange Orange\n"), "campaign.name", at="!orange"),
    text_case(
        "tag-bool-garbage",
        edit(_DAY, "  day: !!bool maybe\n"),
        "cannot be read as bool",
        at="!!bool",
    ),
    text_case(
        "tag-int-garbage", edit(_DAY, "  day: !!int one\n"), "cannot be read as int", at="!!int"
    ),
    text_case(
        "merge-keys-are-fine",
        edit("- id: be-tokyo\n", "- &tokyo\n  id: be-tokyo\n").replace(
            "posts:\n", _MERGED_EMBASSY + "posts:\n"
        ),
        "deliveries planned",
        exit_code=0,
    ),
    text_case("merge-of-a-number", edit(_NAME, _NAME + "  <<: 5\n"), "merging", at="<<"),
    text_case(
        "duplicate-keys",
        edit(_NAME, _NAME + "  name: Orange again\n"),
        "appears twice",
        at="Orange again",
    ),
    text_case("several-documents", BASE + "---\n" + BASE, "expected a single document"),
    text_case("empty-file", "", "the file is empty"),
    text_case("only-comments", "# a campaign\n# to come\n", "the file is empty"),
    text_case("null-document", "~\n", "the file is empty"),
    Hostile("a-folder", folder_itself, "this is a folder"),
    Hostile("unreadable", unreadable, "permission denied", unprivileged=True),
    Hostile("symlink-loop", symlink_loop, "too many levels of symbolic links"),
    Hostile("dangling-symlink", dangling_symlink, "no such file"),
    Hostile("endless-device", endless_device, "this is a device, not a regular file"),
    Hostile("named-pipe", named_pipe, "this is a named pipe (FIFO), not a regular file"),
    Hostile(
        "image-name-too-long",
        image_name_too_long,
        "cannot be read: file name too long",
        line=line_of(BASE, _DAY) + 2,
    ),
    text_case(
        "huge-integer",
        edit(_DAY, "  day: " + "9" * 5_000 + "\n"),
        "cannot be read as int",
        at="99999",
    ),
    text_case(
        "big-integer", edit(_DAY, "  day: " + "9" * 40 + "\n"), "is after the campaign", at="99999"
    ),
    text_case(
        "integer-past-64-bits",
        edit(
            "    x:\n      handle: '@be_tokyo'\n",
            "    x:\n      handle: '@be_tokyo'\n      max_characters: 18446744073709551617\n",
        ),
        "max_characters",
        at="1844674",
    ),
    text_case("day-true", edit(_DAY, "  day: true\n"), "not true or false", at="true"),
    text_case("infinite-day", edit(_DAY, "  day: .inf\n"), "posts[0].day", at=".inf"),
    text_case("nan-version", edit("version: 1\n", "version: .nan\n"), "version", at=".nan"),
    text_case(
        "date-with-slashes",
        edit(_START, "    start: 25/11/2026\n"),
        "a date such as 2026-11-25",
        at="25/11",
    ),
    text_case(
        "date-with-a-time",
        edit(_START, "    start: 2026-11-25T10:00:00\n"),
        "without a time",
        at="T10",
    ),
    text_case(
        "date-as-a-number", edit(_START, "    start: 20261125\n"), "not a number", at="20261125"
    ),
    text_case(
        "date-as-unix-time",
        edit(_START, "    start: 1795564800\n"),
        "not a number",
        at="1795564800",
    ),
    text_case(
        "instant-as-unix-time", edit(_DAY, "  at: 1795600800\n"), "not a number", at="1795600800"
    ),
    text_case("month-13", edit(_START, "    start: 2026-13-01\n"), "not a real date", at="2026-13"),
    text_case(
        "february-29-2027", edit(_START, "    start: 2027-02-29\n"), "not a real date", at="2027-02"
    ),
    text_case("year-1", edit(_START, "    start: 0001-01-01\n"), "outside the years", at="0001"),
    text_case(
        "instant-at-the-end-of-time",
        edit(_DAY, "  at: 9999-12-31T23:00:00-12:00\n"),
        "outside the years",
        at="9999",
    ),
    text_case(
        "grace-of-ages",
        edit(_DAY, _DAY + "  late_grace: 99999999999999999d\n"),
        "0 to 366 days",
        at="late_grace",
    ),
    text_case(
        "grace-past-timedelta",
        edit(_DAY, _DAY + "  late_grace: 999999999999d\n"),
        "0 to 366 days",
        at="late_grace",
    ),
    text_case(
        "grace-past-32-bits",
        edit(_DAY, _DAY + "  late_grace: 30000d\n"),
        "0 to 366 days",
        at="late_grace",
    ),
    text_case(
        "negative-grace", edit(_DAY, _DAY + "  late_grace: -5\n"), "0 to 366 days", at="late_grace"
    ),
    text_case(
        "key-of-2000-characters",
        edit(_NAME, _NAME + "  " + "k" * 2_000 + ": 1\n"),
        "at most 1024 characters",
        at="kkkk",
    ),
]
"""Each case once: names are unique."""

assert len({case.name for case in CORPUS}) == len(CORPUS)
assert os.sep == "/", "the corpus uses POSIX paths and devices"
