"""Approvals: a post version approved by someone, under the campaign's approval policy.

An approval holds for one version of a post: an edit raises the version, so the approval no
longer counts and the post's pending deliveries wait for approval again.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.campaign.model import ApprovalPolicy
from scheduler.errors import StoreError, UsageError
from scheduler.store.audit import record
from scheduler.store.deliveries import move
from scheduler.store.schema import Approval, Post
from scheduler.store.schema import Delivery as StoredDelivery
from scheduler.store.states import DeliveryState


def is_approved(session: Session, post: Post) -> bool:
    found = session.scalar(
        select(Approval.id).where(
            Approval.campaign_id == post.campaign_id,
            Approval.post_id == post.id,
            Approval.version == post.version,
        )
    )
    return found is not None


def initial_state(session: Session, post: Post, policy: ApprovalPolicy) -> DeliveryState:
    """Where a new or edited delivery of ``post`` starts."""
    if policy.required and not is_approved(session, post):
        return DeliveryState.AWAITING_APPROVAL
    return DeliveryState.SCHEDULED


def approve(
    session: Session, post: Post, policy: ApprovalPolicy, approver: str, now: dt.datetime
) -> int:
    """Approve the current version of ``post``; returns how many deliveries were released."""
    if post.cancelled_at is not None:
        raise UsageError(f"post {post.id} is cancelled; there is nothing to approve")
    if policy.two_person_rule and approver == post.author:
        raise UsageError(
            f"post {post.id} version {post.version} was written by {approver}; the campaign's "
            "two-person rule needs someone else to approve it"
        )
    if is_approved(session, post):
        raise StoreError(f"post {post.id} version {post.version} is already approved")
    session.add(
        Approval(
            campaign_id=post.campaign_id,
            post_id=post.id,
            version=post.version,
            approver=approver,
            at=now,
        )
    )
    released = move(
        session,
        (StoredDelivery.campaign_id == post.campaign_id) & (StoredDelivery.post_id == post.id),
        DeliveryState.SCHEDULED,
        frozenset({DeliveryState.AWAITING_APPROVAL}),
        now,
    )
    record(session, now, approver, "approve", post.campaign_id, post.id, version=post.version)
    return released


def withdraw_approval(session: Session, post: Post, now: dt.datetime) -> int:
    """After an edit under a policy that requires approval: pending copies wait again."""
    return move(
        session,
        (StoredDelivery.campaign_id == post.campaign_id) & (StoredDelivery.post_id == post.id),
        DeliveryState.AWAITING_APPROVAL,
        frozenset({DeliveryState.SCHEDULED, DeliveryState.CLAIMED, DeliveryState.RETRY_WAITING}),
        now,
        lease_owner=None,
        lease_expires_at=None,
    )
