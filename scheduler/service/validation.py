"""Check a campaign file: every problem at once, and the plan of what is valid."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from scheduler.campaign.checks import check_deliveries, check_structure
from scheduler.campaign.loader import LoadedCampaign, LoadResult, load_file
from scheduler.campaign.planner import Plan, plan
from scheduler.campaign.salvage import Salvaged, salvage, without
from scheduler.campaign.timing import ResolvedTime
from scheduler.errors import CampaignFileError
from scheduler.problems import Problem, has_errors, sort_problems


@dataclass(frozen=True)
class Validation:
    file: Path
    problems: list[Problem]
    campaign: LoadedCampaign | None
    plan: Plan | None

    @property
    def ok(self) -> bool:
        return not has_errors(self.problems)


def validate_file(path: Path) -> Validation:
    """Every problem of the file at once: structure first, then the expanded plan."""
    return validate_loaded(load_file(path), path)


def validate_loaded(
    loaded: LoadResult,
    path: Path,
    slots: Mapping[tuple[str, str], ResolvedTime] | None = None,
) -> Validation:
    """The checks and the plan of a loaded campaign, whether it came from a file or not."""
    if loaded.campaign is None:
        problems = list(loaded.problems)
        attempt = loaded.attempt
        salvaged = attempt and salvage(attempt.data, attempt.source, attempt.path, attempt.broken)
        if salvaged:
            found = _checked_despite_errors(salvaged, slots)
            problems += salvaged.restore(found)
        return Validation(path, sort_problems(problems), None, None)
    problems = [*loaded.problems, *check_structure(loaded.campaign)]
    if has_errors(problems):
        problems += _planned_despite_errors(loaded.campaign, problems, slots)
        return Validation(path, sort_problems(problems), loaded.campaign, None)
    planned = plan(loaded.campaign, slots)
    problems += [*planned.problems, *check_deliveries(planned, loaded.campaign)]
    return Validation(path, sort_problems(problems), loaded.campaign, planned)


_PLANNABLE_DESPITE = frozenset(
    {"handle", "instance", "secret-in-file", "credentials-name", "duplicate-language"}
)
"""Errors outside the posts and embassies that change no delivery: everything is planned and
checked with them present."""


def _checked_despite_errors(
    salvaged: Salvaged, slots: Mapping[tuple[str, str], ResolvedTime] | None
) -> list[Problem]:
    """The checks and the plan of what remains of a file whose shape is wrong."""
    loaded = salvaged.campaign
    found = check_structure(loaded)
    problems = [problem for problem in found if not salvaged.names_a_left_out_embassy(problem)]
    if has_errors(problems):
        return [*problems, *_planned_despite_errors(loaded, problems, slots)]
    planned = plan(loaded, slots)
    return [*problems, *planned.problems, *check_deliveries(planned, loaded)]


def _planned_despite_errors(
    loaded: LoadedCampaign,
    problems: list[Problem],
    slots: Mapping[tuple[str, str], ResolvedTime] | None,
) -> list[Problem]:
    """Every mistake at once: the posts and embassies without an error are planned and their
    deliveries checked (lengths, images...), unless an error elsewhere bears on every plan."""
    dropped: dict[str, set[int]] = {"posts": set(), "embassies": set()}
    for problem in problems:
        if not problem.is_error or problem.code in _PLANNABLE_DESPITE:
            continue
        path = problem.path
        if len(path) >= 2 and path[0] in dropped and isinstance(path[1], int):
            dropped[str(path[0])].add(path[1])
        else:
            return []
    if len(dropped["embassies"]) == len(loaded.spec.embassies):
        return []
    reduced, restore = without(loaded, dropped)
    planned = plan(reduced, slots)
    return restore([*planned.problems, *check_deliveries(planned, reduced)])


def plan_file(path: Path) -> tuple[Plan, list[Problem]]:
    """The plan of a valid file, with its warnings; raises CampaignFileError on any error."""
    result = valid_file(path)
    assert result.plan is not None
    return result.plan, result.problems


def valid_file(path: Path) -> Validation:
    """The validation of a file with no error: CampaignFileError (every problem) otherwise."""
    result = validate_file(path)
    if not result.ok or result.plan is None or result.campaign is None:
        raise CampaignFileError(str(path), result.problems)
    return result
