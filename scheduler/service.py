"""What the CLI (and later the web dashboard) call: one function per job, no I/O formatting.

The path of a post: cli -> service -> loader / checks / planner -> (store -> dispatcher ->
adapter, in later layers).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from scheduler.checks import check_deliveries, check_structure
from scheduler.errors import CampaignFileError
from scheduler.loader import LoadedCampaign, load_file
from scheduler.planner import Plan, plan
from scheduler.problems import Problem, has_errors, sort_problems
from scheduler.store.database import Database
from scheduler.store.sync import SyncReport, sync_campaign


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
    result = _valid(path)
    assert result.plan is not None
    return result.plan, result.problems


def _valid(path: Path) -> Validation:
    result = validate_file(path)
    if not result.ok or result.plan is None or result.campaign is None:
        raise CampaignFileError(str(path), result.problems)
    return result


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def sync_file(
    path: Path,
    database: Database,
    *,
    actor: str,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> tuple[SyncReport, list[Problem]]:
    """Bring the store in line with the file at ``path``: all of it, or (on any error) nothing."""
    valid = _valid(path)
    assert valid.campaign is not None and valid.plan is not None
    with database.transaction(commit=not dry_run) as session:
        report = sync_campaign(
            session, valid.campaign, valid.plan, actor=actor, now=now or now_utc()
        )
    return report, valid.problems
