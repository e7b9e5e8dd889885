"""The preflight before launch (``campaign check``): every account of a campaign verified against
its platform, its live limits compared with what is planned for it, every image read whole.

Adapters come from ``adapters.registry``, which imports a platform SDK only when asked for that
platform: importing this module imports none. Secrets are loaded here and handed to adapters,
never returned or reported; a missing one is reported by the names of the environment variables
and the file that were looked at (``adapters.secrets``).
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from PIL import Image, UnidentifiedImageError

from adapters import registry
from adapters.base import AccountCheck, AccountLimits, Adapter, AdapterSettings, StateStore
from adapters.capabilities import Platform
from adapters.secrets import (
    MissingCredentials,
    default_secrets_file,
    load_credentials,
    session_state,
)
from adapters.textlength import MASTODON_URL_LENGTH, mastodon_length
from scheduler.campaign.loader import LoadedCampaign
from scheduler.campaign.model import CampaignFile, MastodonAccount
from scheduler.campaign.planner import Attachment, Delivery, Plan
from scheduler.defaults import PREFLIGHT_WORKERS
from scheduler.errors import CampaignError, UsageError
from scheduler.settings import Settings

LISTED = 3
"""Deliveries named per kind of problem; the rest are counted."""


@dataclass(frozen=True, slots=True)
class AccountRef:
    """One platform account, as a campaign file (or the command line) names it."""

    platform: Platform
    credentials: str
    """Name of the secrets entry; never a secret."""
    handle: str | None = None
    instance: str | None = None
    embassy_id: str | None = None

    @property
    def label(self) -> str:
        return f"{self.embassy_id or self.credentials}/{self.platform}"


def accounts_of(campaign: CampaignFile) -> list[AccountRef]:
    """Every account of every embassy, in file order."""
    return [
        AccountRef(
            platform=platform,
            credentials=account.credentials,
            handle=account.handle,
            instance=account.instance if isinstance(account, MastodonAccount) else None,
            embassy_id=embassy.id,
        )
        for embassy in campaign.embassies
        for platform, account in embassy.accounts.by_platform().items()
    ]


def find_account(campaign: CampaignFile, platform: Platform, embassy_id: str) -> AccountRef:
    embassies = {embassy.id for embassy in campaign.embassies}
    if embassy_id not in embassies:
        known = ", ".join(sorted(embassies))
        raise UsageError(f"--account {embassy_id}: no such embassy; expected one of {known}")
    for ref in accounts_of(campaign):
        if ref.embassy_id == embassy_id and ref.platform is platform:
            return ref
    raise UsageError(f"--account {embassy_id}: the embassy has no {platform} account in the file")


def secrets_location(settings: Settings, explicit: Path | None = None) -> Path:
    """``--secrets-file`` (or CAMPAIGN_SECRETS_FILE), else the settings', else the default."""
    return explicit or settings.secrets_file or default_secrets_file()


def connection(
    ref: AccountRef, settings: Settings, state: StateStore | None = None
) -> tuple[AdapterSettings, str | None]:
    """The adapter settings of ``ref`` and the base URL the operator's settings impose, if any."""
    platform = settings.platform(ref.platform)
    options: dict[str, Any] = {} if state is None else {"state": state}
    adapter_settings = AdapterSettings(
        handle=ref.handle or ref.credentials,
        instance=ref.instance,
        timeout=platform.timeout,
        media_deadline=platform.media_deadline,
        appview=platform.appview,
        **options,
    )
    return adapter_settings, platform.base_url


def same_handle(expected: str, live: str) -> bool:
    """Whether two handles name the same account: case aside, '@' aside, and a Mastodon
    ``@user@domain`` matching the server's own ``@user``."""
    wanted, found = _handle_parts(expected), _handle_parts(live)
    domains = {wanted[1], found[1]} - {None}
    return wanted[0] == found[0] and len(domains) <= 1


def _handle_parts(handle: str) -> tuple[str, str | None]:
    user, _, domain = handle.strip().lstrip("@").lower().partition("@")
    return user, domain or None


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountResult:
    ref: AccountRef
    deliveries: int
    """How many deliveries are planned for the account."""
    check: AccountCheck | None = None
    """What the platform said: identity and live limits; None when it could not be asked."""
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        check, limits = self.check, self.check.limits if self.check else None
        return {
            "embassy": self.ref.embassy_id,
            "platform": str(self.ref.platform),
            "handle": self.ref.handle,
            "credentials": self.ref.credentials,
            "ok": self.ok,
            "identity": None
            if check is None
            else {
                "account_id": check.account_id,
                "handle": check.handle,
                "display_name": check.display_name,
                "server": check.server,
            },
            "limits": None if limits is None else _limits_dict(limits),
            "deliveries": self.deliveries,
            "problems": list(self.problems),
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class MediaResult:
    file: str
    """As written in the campaign file."""
    size: int
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "size": self.size, "ok": self.ok, "problem": self.problem}


@dataclass(frozen=True)
class Preflight:
    file: Path
    accounts: tuple[AccountResult, ...]
    media: tuple[MediaResult, ...]

    @property
    def ok(self) -> bool:
        return all(a.ok for a in self.accounts) and all(m.ok for m in self.media)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.file),
            "ok": self.ok,
            "accounts": [account.as_dict() for account in self.accounts],
            "media": [media.as_dict() for media in self.media],
        }


class Progress(Protocol):
    """Told how many accounts there are, then of each one as its check ends (in any order)."""

    def start(self, total: int) -> None: ...

    def done(self, result: AccountResult) -> None: ...


def _limits_dict(limits: AccountLimits) -> dict[str, int | list[str] | None]:
    return {
        "max_characters": limits.max_characters,
        "max_media": limits.max_media,
        "max_image_bytes": limits.max_image_bytes,
        "characters_reserved_per_url": limits.characters_reserved_per_url,
        "max_alt_text": limits.max_alt_text,
        "assumed": sorted(limits.assumed),
    }


# --- the preflight ----------------------------------------------------------------------------


def run_preflight(
    loaded: LoadedCampaign,
    plan: Plan,
    settings: Settings,
    *,
    secrets_file: Path | None = None,
    workers: int = PREFLIGHT_WORKERS,
    progress: Progress | None = None,
) -> Preflight:
    """Check every account of ``loaded`` (``workers`` at once) and every image of ``plan``."""
    refs = accounts_of(loaded.spec)
    secrets = secrets_location(settings, secrets_file)
    planned: dict[tuple[str | None, Platform], list[Delivery]] = {}
    for delivery in plan.deliveries:
        planned.setdefault((delivery.embassy_id, delivery.platform), []).append(delivery)
    # Adapter classes are imported here, once, not by several threads at the same time.
    classes = {ref.platform: registry.adapter_class(ref.platform) for ref in refs}
    if progress is not None:
        progress.start(len(refs))
    results: dict[AccountRef, AccountResult] = {}
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="preflight") as pool:
        futures = {
            pool.submit(
                check_account,
                ref,
                planned.get((ref.embassy_id, ref.platform), []),
                settings,
                secrets,
                classes[ref.platform],
                loaded.path,
            ): ref
            for ref in refs
        }
        for future in as_completed(futures):
            results[futures[future]] = result = future.result()
            if progress is not None:
                progress.done(result)
    media = check_media(loaded.folder, (a for d in plan.deliveries for a in d.media))
    return Preflight(loaded.path, tuple(results[ref] for ref in refs), tuple(media))


def check_account(
    ref: AccountRef,
    deliveries: Sequence[Delivery],
    settings: Settings,
    secrets_file: Path,
    adapter_class: type[Adapter],
    campaign_file: Path | None = None,
) -> AccountResult:
    """One account: its credentials, who they belong to, and its limits against its posts."""
    try:
        live = _verify(ref, settings, secrets_file, adapter_class)
    except MissingCredentials as exc:  # say how to store them
        problem = (
            f"{type(exc).__name__}: {exc}; store them with `{auth_command(ref, campaign_file)}`"
        )
        return AccountResult(ref, len(deliveries), problems=(problem,))
    except CampaignError as exc:  # missing credentials, or the platform's refusal
        return AccountResult(ref, len(deliveries), problems=(f"{type(exc).__name__}: {exc}",))
    except Exception as exc:  # a bug must not hide the other accounts' results
        problem = f"unexpected {type(exc).__name__} while verifying (a bug: please report it)"
        return AccountResult(ref, len(deliveries), problems=(problem,))
    problems = []
    if ref.handle and not same_handle(ref.handle, live.handle):
        problems.append(
            f"the credentials {ref.credentials!r} belong to {live.handle}, not {ref.handle}"
        )
    limit_problems, notes = compare_limits(deliveries, live.limits)
    return AccountResult(ref, len(deliveries), live, (*problems, *limit_problems), tuple(notes))


def auth_command(ref: AccountRef, campaign_file: Path | None) -> str:
    """The `campaign auth` command that stores this account's credentials."""
    if ref.embassy_id is not None:
        file = "" if campaign_file is None else f" {shlex.quote(str(campaign_file))}"
        return f"campaign auth {ref.platform} --account {ref.embassy_id}{file}"
    return f"campaign auth {ref.platform} --credentials {ref.credentials}"


def _verify(
    ref: AccountRef, settings: Settings, secrets_file: Path, adapter_class: type[Adapter]
) -> AccountCheck:
    credentials = load_credentials(
        ref.credentials, adapter_class.credential_fields, file=secrets_file
    )
    state = session_state(ref.credentials, file=secrets_file)  # Bluesky reuses its session
    adapter_settings, base_url = connection(ref, settings, state)
    adapter = adapter_class(settings=adapter_settings, credentials=credentials, base_url=base_url)
    try:
        return adapter.verify()
    finally:
        adapter.close()


def compare_limits(
    deliveries: Sequence[Delivery], limits: AccountLimits
) -> tuple[list[str], list[str]]:
    """(problems, notes): the planned deliveries that the live limits would refuse."""
    notes = []
    weight = limits.characters_reserved_per_url
    recount = weight is not None and weight != MASTODON_URL_LENGTH and bool(deliveries)
    recount = recount and deliveries[0].platform is Platform.MASTODON
    if recount:
        notes.append(f"the instance counts a link as {weight} characters; lengths recounted")

    def length(delivery: Delivery) -> int:
        if recount and weight is not None:
            return mastodon_length(delivery.text, weight)
        return delivery.length

    checks: list[tuple[str, Iterator[str]]] = [
        (
            f"longer than the live limit of {limits.max_characters} characters",
            (f"{d.id} ({length(d)})" for d in deliveries if length(d) > limits.max_characters),
        ),
        (
            f"more images than the live limit of {limits.max_media}",
            (f"{d.id} ({len(d.media)})" for d in deliveries if len(d.media) > limits.max_media),
        ),
        (
            f"images over the live limit of {limits.max_image_bytes:,} bytes",
            _over(deliveries, lambda a: a.size, limits.max_image_bytes),
        ),
    ]
    if limits.max_alt_text is not None:
        checks.append(
            (
                f"alt text longer than the live limit of {limits.max_alt_text} characters",
                _over(deliveries, lambda a: len(a.alt), limits.max_alt_text),
            )
        )
    problems = [_listing(what, list(found)) for what, found in checks]
    return [problem for problem in problems if problem], notes


def _over(
    deliveries: Iterable[Delivery], measure: Callable[[Attachment], int], limit: int
) -> Iterator[str]:
    for delivery in deliveries:
        for attachment in delivery.media:
            if measure(attachment) > limit:
                yield f"{delivery.id} {attachment.file} ({measure(attachment):,})"


def _listing(what: str, found: list[str]) -> str:
    if not found:
        return ""
    shown = ", ".join(found[:LISTED])
    more = f" and {len(found) - LISTED} more" if len(found) > LISTED else ""
    return f"{len(found)} planned post{'s' * (len(found) != 1)} {what}: {shown}{more}"


# --- media --------------------------------------------------------------------------------------


def check_media(folder: Path, attachments: Iterable[Attachment]) -> list[MediaResult]:
    """Each image once: still there, unchanged since planning, and decodable to the last byte
    (opening an image reads only its header; a truncated file fails only here)."""
    seen: dict[str, Attachment] = {}
    for attachment in attachments:
        seen.setdefault(attachment.file, attachment)
    return [_check_image(folder, attachment) for attachment in seen.values()]


def _check_image(folder: Path, attachment: Attachment) -> MediaResult:
    path = folder / attachment.file
    try:
        data = path.read_bytes()
    except OSError as exc:
        return MediaResult(attachment.file, 0, f"cannot be read: {exc.strerror}")
    if hashlib.sha256(data).hexdigest() != attachment.sha256:
        return MediaResult(attachment.file, len(data), "changed while it was being checked")
    try:
        with Image.open(path) as image:
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        return MediaResult(
            attachment.file, len(data), f"cannot be decoded ({exc}): damaged or truncated"
        )
    return MediaResult(attachment.file, len(data))
