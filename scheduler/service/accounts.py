"""The campaign's accounts: find one in the file, authorize it, check them all before launch."""

from __future__ import annotations

from pathlib import Path

from adapters.capabilities import Platform
from scheduler.campaign.loader import load_file
from scheduler.errors import CampaignFileError
from scheduler.problems import Problem
from scheduler.service.onboarding import Ask, Authorized, Tell, authorize
from scheduler.service.preflight import (
    AccountRef,
    Preflight,
    Progress,
    find_account,
    run_preflight,
    secrets_location,
)
from scheduler.service.validation import valid_file
from scheduler.settings import Settings


def account_in_file(path: Path, platform: Platform, embassy_id: str) -> AccountRef:
    """The account of embassy ``embassy_id`` on ``platform``, as the campaign file names it.

    Only the file's structure has to be valid: a post with a problem does not stop onboarding.
    """

    loaded = load_file(path)
    if loaded.campaign is None:
        raise CampaignFileError(str(path), loaded.problems)
    return find_account(loaded.campaign.spec, platform, embassy_id)


def authorize_account(
    ref: AccountRef,
    settings: Settings,
    *,
    ask: Ask,
    tell: Tell,
    secrets_file: Path | None = None,
    store: bool = True,
    app_from: str | None = None,
) -> Authorized:
    """Get an account's credentials interactively and store them (or return export lines)."""

    return authorize(
        ref,
        settings,
        ask=ask,
        tell=tell,
        secrets_file=secrets_location(settings, secrets_file),
        store=store,
        app_from=app_from,
    )


def check_file(
    path: Path,
    settings: Settings,
    *,
    secrets_file: Path | None = None,
    workers: int = 8,
    progress: Progress | None = None,
) -> tuple[Preflight, list[Problem]]:
    """The preflight of a valid campaign file (raises CampaignFileError on any error): every
    account verified and compared with its planned posts, every image read."""

    valid = valid_file(path)
    assert valid.campaign is not None and valid.plan is not None
    result = run_preflight(
        valid.campaign,
        valid.plan,
        settings,
        secrets_file=secrets_file,
        workers=workers,
        progress=progress,
    )
    return result, valid.problems
