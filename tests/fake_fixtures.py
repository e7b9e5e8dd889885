"""Fixtures around the fake platforms (tests/fakes), and one "kit" per adapter for the contract.

A kit bundles a started fake, a way to build the adapter against it, and a platform-neutral
view of what the fake received, so ``test_contract.py`` asserts the same things of each.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fakes import FakeBluesky, FakeMastodon, FakeX
from fakes.server import FakeServer
from PIL import Image

from adapters.base import Adapter, AdapterSettings, MemoryState, StateStore
from adapters.bluesky import BlueskyAdapter
from adapters.capabilities import Platform
from adapters.dryrun import DryRunAdapter, dry_run_class
from adapters.mastodon import MastodonAdapter
from adapters.secrets import Secret
from adapters.x import XAdapter

TEST_TIMEOUT = 10.0
"""Adapter timeout in tests: long enough for a fake on 127.0.0.1 to answer on a loaded machine
(at 0.3 s, a busy machine turned an ordinary create into OutcomeUnknown). A test of timeouts
gives its own short one and a fault that waits far longer (test_contract: 0.2 s against 5 s)."""

X_CREDENTIALS = {
    "consumer_key": "consumer-key",
    "consumer_secret": "consumer-secret",
    "access_token": "1-access-token",
    "access_token_secret": "access-token-secret",
}
MASTODON_CREDENTIALS = {"access_token": "mastodon-token"}
BLUESKY_CREDENTIALS = {"app_password": "abcd-efgh-ijkl-mnop"}


def secrets_of(values: dict[str, str]) -> dict[str, Secret]:
    return {name: Secret(value) for name, value in values.items()}


def png(
    width: int = 1200, height: int = 675, colour: tuple[int, int, int] = (255, 140, 0)
) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


@dataclass(frozen=True)
class SentPost:
    """What a fake received, the same way for every platform."""

    remote_id: str
    text: str
    alts: tuple[str, ...]
    in_reply_to: str | None


@dataclass
class Kit:
    platform: str
    fake: FakeServer | None
    build: Callable[..., Adapter]
    """build(timeout=..., base_url=..., state=...) -> a fresh adapter against the fake."""
    sent: Callable[[Adapter], list[SentPost]]
    create_path: str
    """Regex of the path that creates a post: where publish faults are aimed."""
    verify_path: str

    @property
    def real(self) -> bool:
        return self.fake is not None


# --- fakes ------------------------------------------------------------------------------------


@pytest.fixture
def fake_x() -> Iterator[FakeX]:
    with FakeX() as fake:
        yield fake


@pytest.fixture
def fake_mastodon() -> Iterator[FakeMastodon]:
    with FakeMastodon() as fake:
        yield fake


@pytest.fixture
def fake_bluesky() -> Iterator[FakeBluesky]:
    with FakeBluesky(known_handles={"unwomen.org": "did:plc:unwomen0000000000000000"}) as fake:
        yield fake


# --- adapters ---------------------------------------------------------------------------------


def settings(
    handle: str, *, timeout: float = TEST_TIMEOUT, state: StateStore | None = None, **more: Any
) -> AdapterSettings:
    return AdapterSettings(
        handle=handle, timeout=timeout, state=state or MemoryState(), media_deadline=5, **more
    )


def x_adapter(
    fake: FakeX, *, timeout: float = TEST_TIMEOUT, base_url: str | None = None, **options: Any
) -> XAdapter:
    return XAdapter(
        settings=settings("@BelgiumInJapan", timeout=timeout),
        credentials=secrets_of({**X_CREDENTIALS, **options.pop("credentials", {})}),
        base_url=base_url or fake.url,
        status_poll_interval=0,
        **options,
    )


def mastodon_adapter(
    fake: FakeMastodon,
    *,
    timeout: float = TEST_TIMEOUT,
    base_url: str | None = None,
    **options: Any,
) -> MastodonAdapter:
    return MastodonAdapter(
        settings=settings("@BelgiumInJapan@mastodon.test", timeout=timeout, instance=fake.url),
        credentials=secrets_of({**MASTODON_CREDENTIALS, **options.pop("credentials", {})}),
        base_url=base_url,
        media_poll_interval=0,
        **options,
    )


def bluesky_adapter(
    fake: FakeBluesky,
    *,
    timeout: float = TEST_TIMEOUT,
    base_url: str | None = None,
    state: StateStore | None = None,
    **options: Any,
) -> BlueskyAdapter:
    appview = options.pop("appview", None) or fake.url  # the fake is the AppView too
    return BlueskyAdapter(
        settings=settings(
            "@belgiuminjapan.bsky.social", timeout=timeout, state=state, appview=appview
        ),
        credentials=secrets_of({**BLUESKY_CREDENTIALS, **options.pop("credentials", {})}),
        base_url=base_url or fake.url,
    )


def _x_sent(fake: FakeX) -> Callable[[Adapter], list[SentPost]]:
    def sent(_: Adapter) -> list[SentPost]:
        return [
            SentPost(
                t.id,
                t.text,
                tuple(fake.uploads[m].alt_text or "" for m in t.media_ids),
                t.in_reply_to,
            )
            for t in fake.posted
        ]

    return sent


def _mastodon_sent(fake: FakeMastodon) -> Callable[[Adapter], list[SentPost]]:
    def sent(_: Adapter) -> list[SentPost]:
        return [
            SentPost(s.id, s.text, tuple(m.description for m in s.media), s.in_reply_to_id)
            for s in fake.posted
        ]

    return sent


def _bluesky_sent(fake: FakeBluesky) -> Callable[[Adapter], list[SentPost]]:
    def sent(_: Adapter) -> list[SentPost]:
        posts = []
        for record in fake.posted:
            images = (record.value.get("embed") or {}).get("images") or []
            reply = record.value.get("reply")
            parent = reply["parent"]["uri"] if reply else None
            posts.append(
                SentPost(record.uri, record.value["text"], tuple(i["alt"] for i in images), parent)
            )
        return posts

    return sent


def _dry_run_sent(adapter: Adapter) -> list[SentPost]:
    assert isinstance(adapter, DryRunAdapter)
    return [
        SentPost(p.remote_id, part.text, tuple(m.alt for m in part.media), part.in_reply_to)
        for part, p in adapter.sent
        if p.remote_id not in adapter.deleted
    ]


def _dry_run_kit() -> Kit:
    cls = dry_run_class(Platform.MASTODON)

    def build(**_: Any) -> Adapter:
        return cls(
            settings=settings("@BelgiumInJapan@mastodon.test", instance="https://mastodon.test")
        )

    return Kit("dry-run", None, build, _dry_run_sent, "", "")


KIT_NAMES = ["x", "mastodon", "bluesky", "dry-run"]


@pytest.fixture(params=KIT_NAMES)
def kit(request: pytest.FixtureRequest) -> Iterator[Kit]:
    """Every adapter with its fake, one after the other."""
    name: str = request.param
    if name == "dry-run":
        yield _dry_run_kit()
        return
    if name == "x":
        with FakeX() as x:
            yield Kit(
                "x", x, lambda **o: x_adapter(x, **o), _x_sent(x), r"^/2/tweets$", r"^/2/users/me$"
            )
    elif name == "mastodon":
        with FakeMastodon() as m:
            yield Kit(
                "mastodon",
                m,
                lambda **o: mastodon_adapter(m, **o),
                _mastodon_sent(m),
                r"^/api/v1/statuses$",
                "verify_credentials",
            )
    else:
        with FakeBluesky() as b:
            yield Kit(
                "bluesky",
                b,
                lambda **o: bluesky_adapter(b, **o),
                _bluesky_sent(b),
                "applyWrites",
                "getSession",
            )


# --- X media processing, waited on a clock the test moves ----------------------------------


class Stopwatch:
    """The clock media processing is waited on: it moves only when the adapter sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def waiting_x_adapter(fake: FakeX, watch: Stopwatch, *, deadline: float = 5) -> XAdapter:
    """An adapter that waits as long as X's ``check_after_secs`` asks, on ``watch``."""
    return XAdapter(
        settings=AdapterSettings(
            handle="@BelgiumInJapan", timeout=TEST_TIMEOUT, media_deadline=deadline
        ),
        credentials=secrets_of(X_CREDENTIALS),
        base_url=fake.url,
        sleep=watch.sleep,
        monotonic=watch.monotonic,
    )
