"""Alerts to the comms team: the outbox (scheduler.store.alerts) sent as one digest through apprise.

Every ``alerts.digest`` the daemon calls :func:`send_digest`: the unsent alerts become one
message (a title with the counts, a body grouped by kind, most urgent first), sent to every
apprise URL of the settings and of the secrets entry ``alerts.urls_secret``. The alerts are marked
sent only when every URL accepted the message; otherwise they stay in the outbox and go out with
the next digest, so an alert is never lost (it may, after a partial failure, arrive twice).

URLs for mail, Matrix, Slack or Teams carry tokens: they are never logged, nor put in an error
message. Logs name a URL by its scheme and its position only (``slack:// (#2)``).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import apprise
from apprise.manager_plugins import NotificationManager

from adapters.secrets import load_credentials
from scheduler.errors import ConfigurationError
from scheduler.settings import Settings
from scheduler.store.alerts import AlertKind, mark_sent, unsent
from scheduler.store.database import Database, Session
from scheduler.store.schema import Alert

log = logging.getLogger("campaign.notify")

URLS_FIELD = "urls"
"""The field of the secrets entry ``alerts.urls_secret`` that holds apprise URLs, one a line."""
MAX_BODY = 3500
"""Characters of digest body: what the tightest common targets (Telegram, Teams cards) take."""
MAX_LINE = 300
"""Characters of one alert's line at most: a long error message is cut."""
BATCH = 500
"""Alerts per digest at most; the rest go with the next one."""

K = AlertKind
URGENCY: tuple[AlertKind, ...] = (
    K.NEEDS_REVIEW,
    K.SUSPENDED,
    K.FAILED,
    K.MISSED,
    K.PAUSED,
    K.RESUMED,
    K.RETRACTED,
)
"""Most urgent first: a post that may be out twice, an account that cannot post, ..."""
_PHRASES: dict[str, tuple[str, str, str]] = {
    # kind: (one, several, heading)
    K.NEEDS_REVIEW: ("needs review", "need review", "Needs review"),
    K.SUSPENDED: ("account suspended", "accounts suspended", "Accounts suspended"),
    K.FAILED: ("failed", "failed", "Failed"),
    K.MISSED: ("missed", "missed", "Missed"),
    K.PAUSED: ("pause", "pauses", "Paused"),
    K.RESUMED: ("resume", "resumes", "Resumed"),
    K.RETRACTED: ("retraction", "retractions", "Retracted"),
}
_SEVERE = frozenset({K.NEEDS_REVIEW, K.SUSPENDED, K.FAILED})


@dataclass(frozen=True)
class Digest:
    title: str
    body: str
    notify_type: apprise.NotifyType
    alert_ids: tuple[int, ...]


@dataclass(frozen=True)
class PendingAlert:
    """An unsent alert, read out of its session."""

    id: int
    kind: str
    message: str


def send_digest(
    database: Database,
    settings: Settings,
    now: dt.datetime,
    *,
    max_body: int = MAX_BODY,
    dry_run: bool = False,
) -> int:
    """Send the unsent alerts as one digest; returns how many were sent (and marked so).

    In a dry run the digest is logged instead: the team hears only of real runs."""
    if dry_run:
        return _log_digest(database, now, max_body)
    try:
        urls = alert_urls(settings)
    except ConfigurationError as exc:  # its message names the entry and file, never a value
        log.error("alerts not sent: %s", exc)
        return 0
    if not urls:
        _no_urls()
        return 0
    with _outbox(database) as (alerts, mark):
        if not alerts:
            return 0
        digest = build_digest(alerts, max_body=max_body)
        if not _deliver(urls, digest):
            return 0
        mark(digest.alert_ids, now)
    log.info("alerts: digest of %d sent to %d target(s)", len(digest.alert_ids), len(urls))
    return len(digest.alert_ids)


def _log_digest(database: Database, now: dt.datetime, max_body: int) -> int:
    with _outbox(database) as (alerts, mark):
        if not alerts:
            return 0
        digest = build_digest(alerts, max_body=max_body)
        log.info("alerts (dry run: sent to no one): %s\n%s", digest.title, digest.body)
        mark(digest.alert_ids, now)  # in the dry run's scratch copy, so logged once
    return len(digest.alert_ids)


Marker = Callable[[Sequence[int], dt.datetime], None]


@contextmanager
def _outbox(database: Database) -> Iterator[tuple[list[PendingAlert], Marker]]:
    """The unsent alerts, and how to mark them sent.

    On PostgreSQL the rows stay locked (FOR UPDATE SKIP LOCKED) while the digest is sent, so a
    second daemon sends the others, never the same ones. SQLite has one writer for the whole
    file: holding it during a network call would stall every claim, so the alerts are read in a
    snapshot and marked in a transaction of their own (one daemon per SQLite file: no one else
    sends them)."""
    if database.dialect == "postgresql":
        with database.transaction() as session:
            yield _plain(unsent(session, BATCH)), functools.partial(_mark, session)
        return
    with database.snapshot() as session:
        alerts = _plain(unsent(session, BATCH))
    yield alerts, functools.partial(_mark_apart, database)


def _mark(session: Session, alert_ids: Sequence[int], now: dt.datetime) -> None:
    mark_sent(session, list(alert_ids), now)


def _mark_apart(database: Database, alert_ids: Sequence[int], now: dt.datetime) -> None:
    with database.transaction() as session:
        mark_sent(session, list(alert_ids), now)


def _plain(rows: Sequence[Alert]) -> list[PendingAlert]:
    return [PendingAlert(row.id, row.kind, row.message) for row in rows]


@functools.cache
def _no_urls() -> None:
    log.debug("alerts: no apprise URLs configured (alerts.urls, alerts.urls_secret); none sent")


def alert_urls(settings: Settings) -> list[str]:
    """The apprise URLs: ``alerts.urls``, then the lines of the secrets entry's ``urls`` field.

    Raises ConfigurationError (naming the entry, never a value) when the entry is missing."""
    urls = [url.strip() for url in settings.alerts.urls if url.strip()]
    name = settings.alerts.urls_secret
    if name:
        secret = load_credentials(name, [URLS_FIELD], file=settings.secrets_file)[URLS_FIELD]
        lines = (line.strip() for line in secret.reveal().splitlines())
        urls += [line for line in lines if line and not line.startswith("#")]
    return urls


def scheme(url: str) -> str:
    """What may be logged of an apprise URL: its scheme, e.g. ``mailtos://``."""
    head, separator, _ = url.partition("://")
    return f"{head.lower()}://" if separator and head.isascii() and head.isalnum() else "?://"


def check_alert_urls(settings: Settings) -> int:
    """Raise ConfigurationError unless every alert URL is one apprise can use; returns how many.

    For the daemon's start, so that a typo is reported at once rather than at the first alert."""
    urls = alert_urls(settings)
    for number, url in enumerate(urls, start=1):
        if not _client().add(url):
            raise ConfigurationError(
                f"alerts: URL #{number} ({scheme(url)}) is not a URL apprise can send to"
            )
    return len(urls)


def build_digest(alerts: Sequence[PendingAlert], *, max_body: int = MAX_BODY) -> Digest:
    """One message for ``alerts``: counts in the title, the messages grouped by kind."""
    groups: dict[str, list[str]] = {}
    for alert in alerts:
        groups.setdefault(alert.kind, []).append(alert.message)
    kinds = sorted(groups, key=_rank)
    title = "Campaign: " + ", ".join(_count(kind, len(groups[kind])) for kind in kinds)
    body = _body([(kind, groups[kind]) for kind in kinds], max_body)
    return Digest(title, body, _notify_type(kinds), tuple(alert.id for alert in alerts))


def _notify_type(kinds: Sequence[str]) -> apprise.NotifyType:
    if any(kind in _SEVERE for kind in kinds):
        return apprise.NotifyType.FAILURE
    if K.MISSED in kinds:
        return apprise.NotifyType.WARNING
    return apprise.NotifyType.INFO


def _rank(kind: str) -> tuple[int, str]:
    known = [str(k) for k in URGENCY]
    return (known.index(kind), kind) if kind in known else (len(known), kind)


def _count(kind: str, count: int) -> str:
    one, several, _ = _PHRASES.get(kind, (kind, kind, kind))
    return f"{count} {one if count == 1 else several}"


def _body(groups: list[tuple[str, list[str]]], max_body: int) -> str:
    total = sum(len(messages) for _, messages in groups)
    lines: list[str] = []
    shown = 0
    for kind, messages in groups:
        heading = [
            *([""] if lines else []),
            f"{_PHRASES.get(kind, (kind,) * 3)[2]} ({len(messages)})",
        ]
        for index, message in enumerate(messages):
            added = [*heading, _line(message)] if index == 0 else [_line(message)]
            left = total - shown - 1
            reserve = len(_more(left)) + 1 if left else 0
            if len("\n".join([*lines, *added])) + reserve > max_body:
                return "\n".join([*lines, _more(total - shown)])
            lines += added
            shown += 1
    return "\n".join(lines)


def _line(message: str) -> str:
    text = " ".join(message.split())  # one alert, one line: no newline from an error message
    return "- " + (text if len(text) <= MAX_LINE else text[: MAX_LINE - 1] + "…")


def _more(count: int) -> str:
    return f"... and {count} more"


QUIET_LOGGERS = ("apprise", "urllib3.connectionpool")
"""Below WARNING these log whole request URLs, and the path of a webhook URL is its token."""


@functools.cache
def _load_plugins() -> None:
    for name in QUIET_LOGGERS:
        quiet = logging.getLogger(name)
        quiet.setLevel(max(quiet.level, logging.WARNING))
    # apprise loads its plugins on first use; the e-mail one imports the standard imghdr module,
    # deprecated on Python 3.11 and 3.12. Load them once here with that one warning silenced
    # (harmless, and outside our control) rather than let it reach the logs or a strict test run.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'imghdr' is deprecated", DeprecationWarning)
        NotificationManager().load_modules()  # type: ignore[no-untyped-call]


def _client() -> apprise.Apprise:
    _load_plugins()
    # No plugins from the home folder, nothing persisted: the daemon runs with ProtectHome.
    asset = apprise.AppriseAsset(plugin_paths=[], storage_mode="memory", secure_logging=True)
    return apprise.Apprise(asset=asset)


def _deliver(urls: Sequence[str], digest: Digest) -> bool:
    client = _client()
    targets = [url for number, url in enumerate(urls, start=1) if _add(client, url, number)]
    if not targets:
        log.warning("alerts: none of the %d apprise URL(s) is usable; alerts kept", len(urls))
        return False
    result = client.notify(
        body=digest.body,
        title=digest.title,
        notify_type=digest.notify_type,
        body_format=apprise.NotifyFormat.TEXT,
    )
    delivered = bool(result) and len(targets) == len(urls)
    close = getattr(result, "close", None)  # apprise 2 results may hold temporary log files
    if close is not None:
        close()
    if not delivered:
        schemes = ", ".join(sorted({scheme(url) for url in urls}))
        log.warning(
            "alerts: digest of %d alert(s) not delivered to every target (%s); kept for the "
            "next digest",
            len(digest.alert_ids),
            schemes,
        )
    return delivered


def _add(client: apprise.Apprise, url: str, number: int) -> bool:
    if client.add(url):
        return True
    log.warning("alerts: URL #%d (%s) is not a URL apprise can send to", number, scheme(url))
    return False
