"""Read-only questions for the web dashboard: deliveries by local day, one post with its
approvals, the accounts' handles, an image's bytes.

Whether a delivery is held by a pause is asked with the claim's own condition
(:func:`scheduler.store.claims.paused`), so the calendar and the daemon never disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func, select, true
from sqlalchemy.orm import Session

from scheduler.store.claims import paused
from scheduler.store.queries import display_handle
from scheduler.store.schema import Account, Approval, Embassy, Media, Post
from scheduler.store.schema import Delivery as StoredDelivery


@dataclass(frozen=True)
class Listed:
    """A stored delivery, its account's handle as people search for it, and whether an active
    pause holds it."""

    row: StoredDelivery
    handle: str
    paused: bool


def _local_date() -> ColumnElement[str]:
    return func.substr(StoredDelivery.local_time, 1, 10)


def deliveries_between(
    session: Session,
    campaign_id: str,
    first: dt.date,
    last: dt.date,
    *,
    platform: str | None = None,
    language: str | None = None,
    embassy: str | None = None,
) -> list[Listed]:
    """The campaign's deliveries due on local days ``first`` to ``last``, by due time."""
    query = (
        select(StoredDelivery, Account.handle, Account.instance, paused())
        .join(Account, Account.id == StoredDelivery.account_id)
        .where(
            StoredDelivery.campaign_id == campaign_id,
            _local_date() >= first.isoformat(),
            _local_date() <= last.isoformat(),
            true() if platform is None else StoredDelivery.platform == platform,
            true() if language is None else StoredDelivery.language == language,
            true() if embassy is None else StoredDelivery.embassy_id == embassy,
        )
        .order_by(StoredDelivery.local_time, StoredDelivery.key)
    )
    return _listed(session, query)


def post_deliveries(session: Session, campaign_id: str, post_id: str) -> list[Listed]:
    """Every delivery of one post, by embassy, platform and part."""
    query = (
        select(StoredDelivery, Account.handle, Account.instance, paused())
        .join(Account, Account.id == StoredDelivery.account_id)
        .where(StoredDelivery.campaign_id == campaign_id, StoredDelivery.post_id == post_id)
        .order_by(
            StoredDelivery.due_at,
            StoredDelivery.embassy_id,
            StoredDelivery.platform,
            StoredDelivery.part,
        )
    )
    return _listed(session, query)


def _listed(session: Session, query: Select[StoredDelivery, str, str | None, bool]) -> list[Listed]:
    return [
        Listed(row, display_handle(row.platform, handle, instance), bool(held))
        for row, handle, instance, held in session.execute(query)
    ]


@dataclass(frozen=True)
class FilterValues:
    """What the campaign's deliveries hold, for the dashboard's select boxes."""

    embassies: list[str]
    platforms: list[str]
    languages: list[str]


def filter_values(session: Session, campaign_id: str) -> FilterValues:
    embassies = session.scalars(
        select(Embassy.id).where(Embassy.campaign_id == campaign_id).order_by(Embassy.id)
    )
    pairs = session.execute(
        select(StoredDelivery.platform, StoredDelivery.language)
        .where(StoredDelivery.campaign_id == campaign_id)
        .distinct()
    ).all()
    return FilterValues(
        embassies=list(embassies),
        platforms=sorted({platform for platform, _ in pairs}),
        languages=sorted({language for _, language in pairs}),
    )


def account_handles(session: Session, campaign_id: str | None) -> dict[tuple[str, str, str], str]:
    """(campaign, embassy, platform) -> the account's handle, as people search for it."""
    query = select(Account)
    if campaign_id is not None:
        query = query.where(Account.campaign_id == campaign_id)
    return {
        (a.campaign_id, a.embassy_id, a.platform): display_handle(a.platform, a.handle, a.instance)
        for a in session.scalars(query)
    }


@dataclass(frozen=True)
class StoredApproval:
    approver: str
    at: dt.datetime
    version: int


def post_with_approvals(
    session: Session, campaign_id: str, post_id: str
) -> tuple[Post | None, list[StoredApproval]]:
    post = session.get(Post, (campaign_id, post_id))
    approvals = session.scalars(
        select(Approval)
        .where(Approval.campaign_id == campaign_id, Approval.post_id == post_id)
        .order_by(Approval.at, Approval.id)
    )
    return post, [StoredApproval(a.approver, a.at, a.version) for a in approvals]


def media_sizes(session: Session, hashes: list[str]) -> dict[str, int]:
    """sha256 -> bytes, of the stored images among ``hashes``."""
    if not hashes:
        return {}
    query = select(Media.sha256, Media.size).where(Media.sha256.in_(hashes))
    return {str(sha256): int(size) for sha256, size in session.execute(query)}


def media_file(session: Session, sha256: str) -> tuple[str, bytes] | None:
    """An image's type and bytes, None if the store holds no such image."""
    media = session.get(Media, sha256)
    return None if media is None else (media.mime, media.data)
