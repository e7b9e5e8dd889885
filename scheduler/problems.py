"""Problems found in a campaign file, each located at a file, line, column and field path."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

FieldPath = tuple[str | int, ...]


class Severity(StrEnum):
    ERROR = "error"
    """Nothing can be planned or sent until it is fixed."""
    WARNING = "warning"
    """Planned and sendable, but probably not what was meant."""
    NOTICE = "notice"
    """A documented policy decided something, e.g. a fallback language; listed with --verbose."""


def format_path(path: FieldPath) -> str:
    """('posts', 3, 'text', 'fr') -> 'posts[3].text.fr'."""
    text = ""
    for step in path:
        if isinstance(step, int):
            text += f"[{step}]"
        else:
            text += f".{step}" if text else str(step)
    return text or "(top level)"


API_TOKEN_PREFIXES = (
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "xoxr-",
    "xoxs-",
    "xapp-",
    "sk_",
    "pk_",
    "rk_",
)
"""How API tokens start (GitHub, GitLab, Slack, Stripe...), each listed in
docs/campaign-format.md: a value that starts so and goes on for 16 or more token characters."""

SECRET_PATTERNS = [
    (re.compile(r"^A{10,}[A-Za-z0-9%]{20,}$"), "an X bearer token"),
    (re.compile(r"^\d{5,25}-[A-Za-z0-9]{20,}$"), "an X access token"),
    (re.compile(r"^eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\."), "a JSON Web Token"),
    (re.compile(r"^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$"), "a Bluesky app password"),
    (
        re.compile(rf"^({'|'.join(map(re.escape, API_TOKEN_PREFIXES))})[A-Za-z0-9_-]{{16,}}$"),
        "an API token",
    ),
    (re.compile(r"^(AKIA|ASIA)[0-9A-Z]{16}$"), "an AWS access key"),
    (re.compile(r"^AIza[0-9A-Za-z_-]{35}$"), "a Google API key"),
]


def looks_like_secret(value: str) -> str | None:
    """What kind of secret ``value`` resembles, or None."""
    for pattern, kind in SECRET_PATTERNS:
        if pattern.match(value):
            return kind
    if len(value) >= 32 and " " not in value and _mixed_classes(value):
        return "a token or key"
    return None


def _mixed_classes(value: str) -> bool:
    classes = (str.islower, str.isupper, str.isdigit)
    return sum(any(test(char) for char in value) for test in classes) == 3 and "/" not in value


def quoted(value: str, limit: int | None = None) -> str:
    """A refused value, quoted for a message (cut to ``limit`` characters), unless it looks like
    a secret: a token pasted into the wrong field must not be printed back by validate, preview
    or check."""
    kind = looks_like_secret(value.strip())
    if kind is None:
        if limit is not None and len(value) > limit:
            value = value[: limit - 3] + "..."
        return repr(value)
    return f"something that looks like {kind} (not shown: secrets never go in the campaign file)"


@dataclass(frozen=True, slots=True)
class Problem:
    severity: Severity
    code: str
    """Stable identifier, e.g. 'unknown-key'; documented in docs/campaign-format.md."""
    path: FieldPath
    message: str
    expected: str | None = None
    file: str = ""
    line: int | None = None
    """1-based, like an editor's."""
    column: int | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    @property
    def location(self) -> str:
        where = self.file or "<campaign>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return where

    def located(self, file: str, line: int | None, column: int | None) -> Problem:
        return replace(self, file=file, line=line, column=column)

    def __str__(self) -> str:
        text = f"{self.location}: {self.severity}: {format_path(self.path)}: {self.message}"
        if self.expected:
            text += f"; expected {self.expected}"
        return text

    def as_dict(self) -> dict[str, object]:
        return {
            "severity": str(self.severity),
            "code": self.code,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": format_path(self.path),
            "message": self.message,
            "expected": self.expected,
        }


def error(code: str, path: FieldPath, message: str, expected: str | None = None) -> Problem:
    return Problem(Severity.ERROR, code, path, message, expected)


def warning(code: str, path: FieldPath, message: str, expected: str | None = None) -> Problem:
    return Problem(Severity.WARNING, code, path, message, expected)


def notice(code: str, path: FieldPath, message: str) -> Problem:
    return Problem(Severity.NOTICE, code, path, message)


def has_errors(problems: Iterable[Problem]) -> bool:
    return any(problem.is_error for problem in problems)


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Errors first, then in file order, so the first line printed is the first thing to fix."""
    return sorted(
        problems,
        key=lambda p: (_RANK[p.severity], p.file, p.line or 0, p.column or 0, p.message),
    )


_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.NOTICE: 2}


def summarize(problems: Sequence[Problem]) -> str:
    """'2 errors, 1 warning, 0 notices'."""
    counts = []
    for severity in Severity:
        count = sum(1 for p in problems if p.severity is severity)
        counts.append(f"{count} {severity}{'s' * (count != 1)}")
    return ", ".join(counts)
