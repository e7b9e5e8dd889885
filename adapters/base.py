"""The adapter interface and what goes in and out of it.

Every platform error ends up as exactly one class of the publish branch of the error tree
(``adapters.errors``). Each adapter interprets platform errors in one place, a small context
manager around its SDK calls (``_map_errors``), and raises them with ``raise ... from exc``;
``Adapter._errors`` wraps it and takes every secret the adapter holds out of the messages, since a
platform's error text may quote the request (a broken server, a proxy, a hostile one). Adapters
never wait out a rate limit (it is reported with its reset instant; the caller reschedules) and
never return a boolean for failure. The one wait they do is bounded and short: a platform's
processing of uploaded media (X, Mastodon), through a sleep and clock the caller injects.

This module imports no platform SDK and no store: only data and the error tree.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol
from urllib.parse import quote, quote_plus

from adapters.capabilities import Capabilities, Platform
from adapters.errors import ConfigurationError, OutcomeUnknown, PublishError
from adapters.secrets import Secret

VISIBILITIES = frozenset({"public", "unlisted", "private"})
"""The values of ``scheduler.campaign.model.Visibility``, as strings: adapters need no model."""
REPLY_POLICIES = frozenset({"everyone", "following", "mentioned"})
"""The values of ``scheduler.campaign.model.Replies``."""

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- what goes in and out ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MediaItem:
    """One image: its bytes (or a file to read them from), type and alt text."""

    mime: str
    alt: str
    data: bytes | None = None
    path: Path | None = None
    width: int | None = None
    height: int | None = None

    def __post_init__(self) -> None:
        if (self.data is None) == (self.path is None):
            raise ValueError("a MediaItem needs exactly one of data and path")

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()

    @property
    def filename(self) -> str:
        if self.path is not None:
            return self.path.name
        return "image." + self.mime.rpartition("/")[2]


@dataclass(frozen=True, slots=True)
class OutgoingPart:
    """One post (or one part of a thread), rendered and ready to send."""

    text: str
    idempotency_key: str
    """Derived from the delivery (see :func:`idempotency_key`): the same delivery, the same key."""
    media: tuple[MediaItem, ...] = ()
    language: str | None = None
    content_warning: str | None = None
    """Sent in the platform's own field where it has one; otherwise already in ``text``."""
    visibility: str = "public"
    replies: str = "everyone"
    in_reply_to: str | None = None
    """Remote id of the part this one answers (the previous part of a thread)."""
    thread_root: str | None = None
    """Remote id of the thread's first part; Bluesky references it in every reply."""
    scheduled_at: dt.datetime | None = None
    """When the delivery was due: with the idempotency key, what names the post where the
    platform lets the client name it (Bluesky's record key)."""

    def __post_init__(self) -> None:
        if self.visibility not in VISIBILITIES:
            raise ValueError(f"visibility {self.visibility!r} is not one of {sorted(VISIBILITIES)}")
        if self.replies not in REPLY_POLICIES:
            raise ValueError(f"replies {self.replies!r} is not one of {sorted(REPLY_POLICIES)}")


@dataclass(frozen=True, slots=True)
class Published:
    platform: Platform
    remote_id: str
    url: str
    published_at: dt.datetime | None
    """When the platform accepted the post, on the platform's clock, aware UTC; None when its
    answer carries no time. Never our own clock: X, the time in the post's id (the create answer
    has only id and text); Mastodon, the status's ``created_at``; Bluesky, the time of the repo
    commit that created the record (its ``rev``, a TID), since the record's ``createdAt`` is what
    we wrote, so a record read back later (``getRecord``) has None."""
    media_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PostMetrics:
    """One post's engagement counts, as the platform gave them at one moment."""

    remote_id: str
    """What :class:`Published` returned for the post (Mastodon status id, Bluesky AT URI, X
    post id)."""
    counts: Mapping[str, int]
    """By metric name (docs/adapters.md, "Engagement counts"): only what the platform gave. A
    metric it did not give is absent, never 0: an X post from before view counts has no
    ``impressions``, not zero of them."""


@dataclass(frozen=True, slots=True)
class AccountLimits:
    """What the platform accepts for this account right now (may differ from Capabilities)."""

    max_characters: int
    max_media: int
    max_image_bytes: int
    characters_reserved_per_url: int | None = None
    max_alt_text: int | None = None
    assumed: frozenset[str] = frozenset()
    """Names of the fields the platform did not state, so the capabilities' values stand in
    (``campaign check`` says they are assumed): a Mastodon-API server that answers neither its
    instance information nor nodeinfo."""


@dataclass(frozen=True, slots=True)
class AccountCheck:
    platform: Platform
    account_id: str
    """The platform's own id: X user id, Mastodon account id, Bluesky DID."""
    handle: str
    display_name: str | None
    limits: AccountLimits
    server: str | None = None
    """What the server says it is, where it says (a Mastodon version string)."""


class StateStore(Protocol):
    """Where an adapter keeps state between runs (Bluesky: its session). Never the database."""

    def load(self) -> str | None: ...

    def save(self, value: str) -> None: ...


class MemoryState:
    """Keeps state for the life of the process only."""

    def __init__(self, value: str | None = None) -> None:
        self.value = value

    def load(self) -> str | None:
        return self.value

    def save(self, value: str) -> None:
        self.value = value


@dataclass(frozen=True, slots=True)
class AdapterSettings:
    handle: str
    """The account's handle, as written in the campaign file."""
    instance: str | None = None
    """Mastodon: the instance URL (also the default base URL)."""
    timeout: float = 30.0
    """Seconds for each request to connect, and again to answer."""
    media_deadline: float = 120.0
    """Seconds to wait for the platform to finish processing uploaded media."""
    state: StateStore = field(default_factory=MemoryState)
    clock: Clock = utc_now
    appview: str | None = None
    """Bluesky: the AppView that reads posts and their counts (``app.bsky.feed.getPosts``);
    None: Bluesky's public AppView, or the base URL when that is not Bluesky's own PDS."""


def idempotency_key(delivery_id: str, content_hash: str) -> str:
    """The key for one delivery's content: the same delivery, unchanged, gets the same key."""
    return hashlib.sha256(f"{delivery_id}\n{content_hash}".encode()).hexdigest()[:40]


# --- getting an account's credentials ----------------------------------------------------------


class Authorization(ABC):
    """Getting one account's credentials with a person's help (``campaign auth``): they open
    :meth:`authorization_url` in a browser, approve the app (or create an app password), and
    paste back what the platform shows them; :meth:`finish` turns that into the credentials.

    Nothing here prints, prompts or stores: the caller does, and never shows a secret.
    """

    code_label: ClassVar[str]
    """What the person pastes back: "PIN", "authorization code", "app password"."""
    hide_code: ClassVar[bool] = False
    """Whether what they paste is itself a secret (an app password), not to be echoed."""
    instructions: ClassVar[str]
    """What to do at the URL; ``{handle}`` is the account's handle."""

    @abstractmethod
    def authorization_url(self) -> str:
        """Where the person goes; may call the platform first (request token, app)."""

    @abstractmethod
    def finish(self, code: str) -> dict[str, Secret]:
        """Every credential field the adapter needs, from what the person pasted."""


# --- the interface ----------------------------------------------------------------------------


class Adapter(ABC):
    """One platform account. Subclasses set the class attributes and implement the methods."""

    capabilities: ClassVar[Capabilities]
    credential_fields: ClassVar[tuple[str, ...]]
    """The secrets the adapter needs, as named in the secrets store (docs/secrets.md)."""
    default_base_url: ClassVar[str | None] = None
    metrics_batch: ClassVar[int] = 1
    """How many posts one call of :meth:`fetch_metrics` asks the platform about: the most its
    batch endpoint takes (Mastodon 20, Bluesky 25, X 100)."""
    app_fields: ClassVar[tuple[str, ...]] = ()
    """Credentials of the app rather than the account, needed before authorizing (X: the
    consumer key and secret); part of ``credential_fields`` too."""

    @classmethod
    def authorization(
        cls,
        *,
        settings: AdapterSettings,
        app: Mapping[str, Secret],
        base_url: str | None = None,
    ) -> Authorization:
        """The interactive flow that gets this platform's credentials for one account."""
        raise ConfigurationError(f"{cls.capabilities.label}: no interactive authorization")

    def __init__(
        self,
        *,
        settings: AdapterSettings,
        credentials: Mapping[str, Secret],
        base_url: str | None = None,
    ) -> None:
        missing = [name for name in self.credential_fields if name not in credentials]
        if missing:
            raise ConfigurationError(
                f"{self.capabilities.label} account {settings.handle}: "
                f"missing credentials {', '.join(missing)}"
            )
        url = base_url or self._default_base_url(settings)
        if not url:
            raise ConfigurationError(
                f"{self.capabilities.label} account {settings.handle}: no base URL"
            )
        self.settings = settings
        self.credentials = dict(credentials)
        self.base_url = url.rstrip("/")

    def _default_base_url(self, settings: AdapterSettings) -> str | None:
        return self.default_base_url

    @property
    def platform(self) -> Platform:
        return self.capabilities.platform

    def now(self) -> dt.datetime:
        return self.settings.clock()

    def secret(self, name: str) -> str:
        return self.credentials[name].reveal()

    @abstractmethod
    def publish(self, part: OutgoingPart) -> Published:
        """Send one part; raise a PublishError subclass on any failure."""

    @abstractmethod
    def delete(self, remote_id: str) -> None:
        """Remove a post. Deleting a post that is already gone is not an error."""

    @abstractmethod
    def verify(self) -> AccountCheck:
        """Check the credentials; return who they belong to and the live limits."""

    def find_published(
        self, part: OutgoingPart, *, since: dt.datetime, taken: Collection[str] = frozenset()
    ) -> Published | None:
        """The post that ``part`` made on this account, if any: how an unknown outcome is
        settled (docs/architecture.md, "Exactly once").

        The post is recognised by what was sent, never by resemblance: Bluesky by the record key
        derived from the delivery, Mastodon by the status's exact source text and reply target,
        X by its exact text with links expanded and its reply target. Only posts created at or
        after ``since`` (the first attempt, on the platform's clock) count, and none whose id is
        in ``taken`` (posts that already settle other deliveries of the account).

        None means surely not posted: the account's posts were read back to ``since``. Raises
        :class:`OutcomeUnknown` when the adapter cannot tell (the listing does not reach back
        that far), and any other PublishError when the platform could not be asked.
        """
        raise OutcomeUnknown(f"{self.capabilities.label} cannot look for a post on the account")

    def fetch_metrics(self, remote_ids: Sequence[str]) -> list[PostMetrics]:
        """The engagement counts of the account's posts ``remote_ids``: one platform call per
        :attr:`metrics_batch` of them, in order. A post the platform no longer has (deleted) is
        left out of the result; every other failure is raised as the error tree says (401
        :class:`CredentialsInvalid`, 402 :class:`OutOfQuota`, 429 :class:`RateLimited` with its
        reset, 5xx and no answer :class:`TransientError`), and what the earlier batches got is
        lost with it: a caller that keeps each batch calls this once per batch."""
        found: list[PostMetrics] = []
        unique = list(dict.fromkeys(remote_ids))
        for start in range(0, len(unique), self.metrics_batch):
            found.extend(self._fetch_metrics_batch(unique[start : start + self.metrics_batch]))
        return found

    def _fetch_metrics_batch(self, remote_ids: Sequence[str]) -> list[PostMetrics]:
        """One call for at most :attr:`metrics_batch` posts; each platform adapter has one."""
        raise ConfigurationError(f"{self.capabilities.label} gives no engagement counts")

    def close(self) -> None:  # noqa: B027 - an optional hook, not an abstract method
        """Release connections. Adapters holding none need not override it."""

    @contextmanager
    def _errors(self, action: str, *, creates: bool = False) -> Iterator[None]:
        """The platform's errors as the error tree (the adapter's ``_map_errors``), with every
        secret the adapter holds taken out of their messages."""
        try:
            with self._map_errors(action, creates=creates):
                yield
        except PublishError as exc:
            secrets = self._secret_values()
            exc.args = tuple(redact(a, secrets) if isinstance(a, str) else a for a in exc.args)
            raise

    @contextmanager
    def _map_errors(self, action: str, *, creates: bool = False) -> Iterator[None]:
        """Where a platform adapter turns its SDK's errors into the error tree."""
        yield

    def _secret_values(self) -> list[str]:
        """Every secret the adapter holds: its credentials, and what it was given for them."""
        return [secret.reveal() for secret in self.credentials.values()]

    def __enter__(self) -> Adapter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.settings.handle} at {self.base_url}>"


REDACTED = "***"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret in it replaced by ``***``: as it is, and as a URL, a form or
    an OAuth header would encode it."""
    for secret in sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True):
        for form in {secret, quote(secret, safe=""), quote(secret, safe="~"), quote_plus(secret)}:
            text = text.replace(form, REDACTED)
    return text


def counts_of(values: Mapping[str, object], names: Mapping[str, str]) -> dict[str, int]:
    """The counts among ``values`` (a platform's answer: field to value), under our metric
    names (``names``: field to metric). A field missing, null or not a whole number is left
    out, never taken as 0."""
    return {
        metric: value
        for field_name, metric in names.items()
        if isinstance(value := values.get(field_name), int) and not isinstance(value, bool)
    }


def reset_from_epoch(value: str | None, fallback: dt.datetime) -> dt.datetime:
    """A rate-limit reset header holding Unix seconds, as an aware UTC instant."""
    try:
        return dt.datetime.fromtimestamp(int(value or ""), dt.UTC)
    except (ValueError, OverflowError, OSError):
        return fallback


DEFAULT_BACKOFF = dt.timedelta(minutes=1)
"""When a platform rate-limits without saying until when."""
CLOCK_SKEW = dt.timedelta(minutes=2)
"""How far a platform's clock may be behind ours: a post stamped this much before the first
attempt still counts as possibly ours when settling an unknown outcome."""
