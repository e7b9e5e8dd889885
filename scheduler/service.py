"""What the CLI (and later the web dashboard) call: one function per job, no I/O formatting.

The path of a post: cli -> service -> loader / checks / planner -> (store -> dispatcher ->
adapter, in later layers).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scheduler.checks import check_deliveries, check_structure
from scheduler.errors import CampaignFileError
from scheduler.loader import LoadedCampaign, load_file
from scheduler.planner import Plan, plan
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
    loaded = load_file(path)
    if loaded.campaign is None:
        return Validation(path, sort_problems(loaded.problems), None, None)
    problems = [*loaded.problems, *check_structure(loaded.campaign)]
    if has_errors(problems):
        return Validation(path, sort_problems(problems), loaded.campaign, None)
    planned = plan(loaded.campaign)
    problems += [*planned.problems, *check_deliveries(planned, loaded.campaign)]
    return Validation(path, sort_problems(problems), loaded.campaign, planned)


def plan_file(path: Path) -> tuple[Plan, list[Problem]]:
    """The plan of a valid file, with its warnings; raises CampaignFileError on any error."""
    result = validate_file(path)
    if not result.ok or result.plan is None:
        raise CampaignFileError(str(path), result.problems)
    return result.plan, result.problems
