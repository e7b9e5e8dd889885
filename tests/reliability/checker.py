"""The reliability harness's judge: what each delivery became, counted from the platforms' side
(what the fakes hold) as well as from the store's.

A delivery is right when it is on its account exactly once and the store says ``sent`` with that
post's id, or when it is not on its account and the store gives it an explicit state with its
reason (failed, missed, cancelled; needs_review, where a person has been told). Every other
outcome is counted under its name. The scenarios give every delivery of an account its own text,
so a text seen twice on one account is a post sent twice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from fakes import FakeBluesky, FakeMastodon, FakeX
from sqlalchemy import select

from scheduler.store.database import Database
from scheduler.store.documents import DeliveryPayload
from scheduler.store.schema import Account, Delivery

POST = "app.bsky.feed.post"
EXPLAINED = {"failed", "missed", "cancelled", "needs_review"}
PENDING = {"scheduled", "retry_waiting", "awaiting_approval"}
"""Final states that need a reason, and the post absent (needs_review: either way)."""


@dataclass
class Verdict:
    deliveries: int = 0
    on_platform_once: int = 0
    explained: int = 0
    """Not on the platform, in an explicit state with its reason."""
    told: int = 0
    """needs_review with an alert: a person decides."""
    held: int = 0
    """Waiting on an account suspended with its reason (bad credentials, no credit), not on
    the platform: the account's owner acts, then ``campaign resume``."""
    duplicates: list[str] = field(default_factory=list)
    """On the account more than once."""
    silent_losses: list[str] = field(default_factory=list)
    """Recorded sent, but not on the account."""
    wrong_post: list[str] = field(default_factory=list)
    """Recorded sent with the id of a post that is not its own."""
    wrongly_failed: list[str] = field(default_factory=list)
    """Failed, missed or cancelled, though it is on the account."""
    unsettled: list[str] = field(default_factory=list)
    """Left in a state that is neither final nor explained."""
    extra_posts: int = 0
    """Posts on the accounts that no delivery accounts for."""
    extra_seen: list[str] = field(default_factory=list)
    """What those posts are (platform, account, ids, start of the text), to tell why."""

    @property
    def clean(self) -> bool:
        return not (
            self.duplicates
            or self.silent_losses
            or self.wrong_post
            or self.wrongly_failed
            or self.unsettled
            or self.extra_posts
        )

    def figures(self) -> dict[str, int]:
        return {
            "deliveries": self.deliveries,
            "sent once": self.on_platform_once,
            "explained": self.explained,
            "told": self.told,
            "held": self.held,
            "duplicates": len(self.duplicates),
            "silent losses": len(self.silent_losses),
            "wrong post": len(self.wrong_post),
            "wrongly failed": len(self.wrongly_failed),
            "unsettled": len(self.unsettled),
            "extra posts": self.extra_posts,
        }

    def __str__(self) -> str:
        lines = [", ".join(f"{name}: {value}" for name, value in self.figures().items())]
        for name in ("duplicates", "silent_losses", "wrong_post", "wrongly_failed", "unsettled"):
            keys = getattr(self, name)
            if keys:
                lines.append(f"{name}: {', '.join(keys[:10])}{' ...' if len(keys) > 10 else ''}")
        lines += [f"extra post: {seen}" for seen in self.extra_seen[:10]]
        return "\n".join(lines)


Posts = dict[tuple[str, str, str], list[str]]
"""(platform, account handle, text) -> the ids of the posts with that text on that account."""


def on_platforms(x: FakeX, mastodon: FakeMastodon, bluesky: FakeBluesky) -> Posts:
    """Every post the fakes hold, by account and text."""
    found: Posts = defaultdict(list)
    usernames = {user.id: user.username for user in x.users.values()}
    for tweet in x.posted:
        found["x", f"@{usernames[tweet.author_id or '']}".lower(), tweet.text].append(tweet.id)
    for status in mastodon.posted:
        key = ("mastodon", f"@{status.account.username}".lower(), status.text)
        found[key].append(status.id)
    handles = {did: handle for handle, did in bluesky.known_handles.items()}
    for record in bluesky.posted:
        did = record.uri.removeprefix("at://").split("/")[0]
        key = ("bluesky", handles[did].lower(), str(record.value.get("text", "")))
        found[key].append(record.uri)
    return found


def judge(database: Database, posts: Posts) -> Verdict:
    verdict = Verdict()
    expected: set[tuple[str, str, str]] = set()
    with database.snapshot() as session:
        accounts = list(session.scalars(select(Account)))
        handles = {a.id: a.handle.lower() for a in accounts}
        suspended = {a.id for a in accounts if a.suspended_at and a.suspended_reason}
        for row in session.scalars(select(Delivery).order_by(Delivery.key)):
            key = (row.platform, handles[row.account_id], DeliveryPayload.of(row).text)
            expected.add(key)
            ids = posts.get(key, [])
            if row.account_id in suspended and row.state in PENDING and not ids:
                verdict.deliveries += 1
                verdict.held += 1
            else:
                _judge_one(verdict, row, ids)
    extra = {key: ids for key, ids in posts.items() if key not in expected}
    verdict.extra_posts = sum(len(ids) for ids in extra.values())
    verdict.extra_seen = [f"{p} {h} {ids}: {text[:100]!r}" for (p, h, text), ids in extra.items()]
    return verdict


def _judge_one(verdict: Verdict, row: Delivery, ids: list[str]) -> None:
    verdict.deliveries += 1
    if len(ids) > 1:
        verdict.duplicates.append(row.key)
    if row.state == "sent":
        if not ids:
            verdict.silent_losses.append(row.key)
        elif row.remote_id not in ids:
            verdict.wrong_post.append(row.key)
        elif len(ids) == 1:
            verdict.on_platform_once += 1
    elif row.state == "needs_review" and row.error_message:
        verdict.told += 1
    elif (row.state in EXPLAINED and row.error_message) or row.state == "cancelled":
        if ids:
            verdict.wrongly_failed.append(row.key)
        else:
            verdict.explained += 1
    else:
        verdict.unsettled.append(f"{row.key} ({row.state})")


def record(scenario: str, figures: dict[str, int]) -> None:
    """Add a scenario's figures to those printed at the end of the run (conftest.py)."""
    from collections import Counter

    from .harness import FIGURES

    FIGURES.setdefault(scenario, Counter()).update(figures)
