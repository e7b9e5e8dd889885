"""What the reliability tests share: the size of a run, hypothesis settings, the CLI's promises.

``CAMPAIGN_RELIABILITY`` chooses the size: ``quick`` (the default, what CI runs) or ``full``.
Hypothesis runs derandomized, so a run is the same on every machine and at every speed;
``CAMPAIGN_RELIABILITY_SEED=<n>`` explores other cases instead. Nothing here asserts on time.
"""

from __future__ import annotations

import os
import resource
import sys
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from click.testing import CliRunner, Result
from hypothesis import HealthCheck, seed, settings

from scheduler.cli import main

SIZE_ENV = "CAMPAIGN_RELIABILITY"
SEED_ENV = "CAMPAIGN_RELIABILITY_SEED"
ACTOR = "reliability"
"""The --as of every sync: the audit log names the harness."""

T = TypeVar("T", bound=Callable[..., Any])


def _size() -> str:
    size = os.environ.get(SIZE_ENV) or "quick"
    if size not in ("quick", "full"):
        raise ValueError(f"{SIZE_ENV}={size!r}: expected 'quick' or 'full'")
    return size


SIZE = _size()
FULL = SIZE == "full"
SEED = os.environ.get(SEED_ENV)


def sized(quick: int, full: int) -> int:
    return full if FULL else quick


def explore(examples: int) -> Callable[[T], T]:
    """Hypothesis settings for a reliability test: ``examples`` cases, reproducible anywhere."""
    chosen = settings(
        max_examples=examples,
        deadline=None,
        derandomize=SEED is None,
        database=None,  # writes no .hypothesis/ folder
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    )

    def decorate(test: T) -> T:
        decorated: T = chosen(test)
        return seed(int(SEED))(decorated) if SEED is not None else decorated

    return decorate


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="campaign")


def assert_clean(result: Result, codes: tuple[int, ...] = (0, 1, 2)) -> None:
    """The CLI's promise for any input: a documented exit code, and never a traceback."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        assert result.exc_info is not None
        raise AssertionError("".join(traceback.format_exception(*result.exc_info)))
    assert "Traceback" not in result.output, result.output
    assert result.exit_code in codes, (result.exit_code, result.output)


def assert_lines_name_the_file(result: Result, file: Path) -> None:
    """Every line of a refusal starts with the file's name: a person can find each problem."""
    for line in result.output.splitlines():
        if line.strip() and not line.startswith("("):  # "(2 notices not shown; ...)"
            assert line.startswith(f"{file}:"), (line, result.output)


def peak_rss_bytes() -> int:
    """This process's peak resident memory so far."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


FIGURES: dict[str, Counter[str]] = {}
"""Scenario -> counts, printed at the end of the run (conftest.py) for docs/reliability.md."""


def count(scenario: str, *outcomes: str) -> None:
    FIGURES.setdefault(scenario, Counter()).update(outcomes)
