"""What people read about the store: `campaign status` (terminal, JSON) and `campaign report`
(CSV, JSON, HTML).

The queries live in ``scheduler.store.queries`` and return dataclasses; this package only turns
them into text. ``report_record`` is the one flat shape that the report's JSON, CSV and HTML
share, as ``delivery_record`` is for the preview. Credentials names are never read, so they
cannot appear in any output.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from scheduler.store.queries import CampaignInfo, ReportRow
from scheduler.store.states import DeliveryState

LABELS: dict[DeliveryState, str] = {
    DeliveryState.AWAITING_APPROVAL: "awaiting approval",
    DeliveryState.NEEDS_REVIEW: "needs review",
    DeliveryState.RETRY_WAITING: "retry waiting",
}

WHY: dict[DeliveryState, str] = {
    DeliveryState.FAILED: "failed permanently",
    DeliveryState.UNKNOWN: "may have been posted: to be reconciled before anything else",
    DeliveryState.NEEDS_REVIEW: (
        "reconciliation could not tell whether it was posted: a person decides"
    ),
    DeliveryState.MISSED: "too late to send under the late policy",
    DeliveryState.AWAITING_APPROVAL: "waits for approval",
    DeliveryState.CANCELLED: "cancelled",
    DeliveryState.RETRACTED: "deleted from the platform with campaign retract",
}
"""What a state means, for a delivery whose error message says nothing more."""


PLATFORM_NAMES = {"mastodon": "Mastodon", "bluesky": "Bluesky", "x": "X"}
"""Each platform's name, as people write it."""


def slug(text: str) -> str:
    """``text`` as a fragment of an HTML id: lower case letters, digits and dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "other"


def label(state: DeliveryState) -> str:
    return LABELS.get(state, str(state))


def utc(instant: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, as the preview writes instants; None stays None."""
    if instant is None:
        return None
    return instant.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def sent_clock(row: ReportRow) -> str | None:
    """Whose clock the reported ``sent_at`` is on: ``platform`` (the platform said when it
    accepted the post), ``ours`` (it did not say: a Bluesky post found by reconciliation, a
    post settled by a person, one sent before this was recorded), or None (never sent)."""
    if row.platform_sent_at is not None:
        return "platform"
    return "ours" if row.sent_at is not None else None


def campaign_record(campaign: CampaignInfo) -> dict[str, Any]:
    """A campaign in the status and report JSON: its window, and when and by whom it was last
    synced."""
    return {
        "id": campaign.id,
        "name": campaign.name,
        "start": campaign.window_start.isoformat(),
        "end": campaign.window_end.isoformat(),
        "synced_at": utc(campaign.synced_at),
        "synced_by": campaign.synced_by,
    }


def report_record(row: ReportRow) -> dict[str, Any]:
    """The flat, secret-free shape of one reported delivery, shared by every format."""
    return {
        "state": str(row.state),
        "delivery": row.key,
        "campaign": row.campaign_id,
        "post": row.post_id,
        "embassy": row.embassy_id,
        "platform": row.platform,
        "account": row.account,
        "part": row.part,
        "parts": row.parts,
        "language": row.language,
        "due_utc": utc(row.due_at),
        "local_time": row.local_time,
        "timezone": row.timezone,
        "sent_at": utc(row.platform_sent_at or row.sent_at),
        "sent_clock": sent_clock(row),
        "our_sent_at": utc(row.sent_at),
        "remote_url": row.remote_url,
        "remote_id": row.remote_id,
        "retracted_at": utc(row.retracted_at),
        "retracted_by": row.retracted_by,
        "retraction_reason": row.retraction_reason,
        "error_class": row.error_class,
        "error_message": row.error_message,
        "attempts": row.attempts,
        "changed_after_sent": row.changed_after_sent,
        "state_since": utc(row.state_since),
        "text": row.text,
    }


__all__ = ["LABELS", "PLATFORM_NAMES", "WHY", "label", "report_record", "sent_clock", "utc"]
