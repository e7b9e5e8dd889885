"""The life of a delivery, as an explicit state machine.

Every state change in the store goes through :func:`guard`, which turns "from these states to
that one" into the ``WHERE state IN (...)`` of one UPDATE. A write that finds the delivery in any
other state changes nothing, so two writers (a sync and a daemon, two daemons) can never both win.

::

                    approve                 claim (lease)          attempt recorded
    awaiting_approval ──────▶ scheduled ─────────────▶ claimed ─────────────────▶ sending
          ▲   │                 ▲  │ ▲                  │  │                      │ │ │ │
     edit │   │ cancel    lease │  │ │ retry due        │  │ lease expired         │ │ │ └─▶ sent
          │   ▼          expired│  │ └── retry_waiting ◀┼──┼───────────────────────┘ │ │
         cancelled ◀────────────┴──┘     (transient)    │  │            content/auth │ └─▶ failed
                                                        │  └─▶ scheduled           │
           missed ◀── too late (scheduled, retry_waiting, claimed)                 └─▶ unknown
                                                                                       │
                                          reconciled: found ─▶ sent; not found ─▶ scheduled
                                          cannot tell ─▶ needs_review ─▶ sent | failed | scheduled
                                          a person gives up (campaign settle) ─▶ failed

           sent ─▶ retracted: deleted from the platform by `campaign retract` (who, when, why)

``sending`` means an attempt is recorded and a platform call may be in flight: from then on only
the daemon that owns the lease, or reconciliation, may decide what happened. That is why a sync,
an edit or a cancel can stop a ``claimed`` delivery but not a ``sending`` one.
"""

from __future__ import annotations

from enum import StrEnum

from scheduler.errors import StoreError


class DeliveryState(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    SCHEDULED = "scheduled"
    CLAIMED = "claimed"
    """A daemon holds a lease on it and will record an attempt before calling the platform."""
    SENDING = "sending"
    """An attempt is recorded; the platform call may be under way."""
    RETRY_WAITING = "retry_waiting"
    SENT = "sent"
    FAILED = "failed"
    """Permanently: the content was rejected, or the account cannot post."""
    MISSED = "missed"
    """Too late to send under the late policy."""
    CANCELLED = "cancelled"
    RETRACTED = "retracted"
    """It was sent, then deleted from its platform by `campaign retract`: final, never sent
    again; who, when and why are kept beside it, and its URL, which no longer works."""
    UNKNOWN = "unknown"
    """The call may have reached the platform: reconcile before anything else."""
    NEEDS_REVIEW = "needs_review"
    """Reconciliation could not tell whether it was posted: a person decides."""


S = DeliveryState

TRANSITIONS: dict[DeliveryState, frozenset[DeliveryState]] = {
    S.AWAITING_APPROVAL: frozenset({S.SCHEDULED, S.CANCELLED, S.MISSED}),
    S.SCHEDULED: frozenset({S.CLAIMED, S.AWAITING_APPROVAL, S.CANCELLED, S.MISSED}),
    S.CLAIMED: frozenset(
        {S.SENDING, S.SCHEDULED, S.AWAITING_APPROVAL, S.CANCELLED, S.MISSED, S.RETRY_WAITING}
    ),
    S.SENDING: frozenset({S.SENT, S.FAILED, S.RETRY_WAITING, S.UNKNOWN}),
    S.RETRY_WAITING: frozenset(
        {S.CLAIMED, S.SCHEDULED, S.AWAITING_APPROVAL, S.CANCELLED, S.MISSED}
    ),
    S.UNKNOWN: frozenset({S.SENT, S.SCHEDULED, S.NEEDS_REVIEW, S.FAILED}),
    S.NEEDS_REVIEW: frozenset({S.SENT, S.FAILED, S.SCHEDULED}),
    # An operator may put a failed or missed delivery back on the schedule.
    S.FAILED: frozenset({S.SCHEDULED}),
    S.MISSED: frozenset({S.SCHEDULED}),
    S.SENT: frozenset({S.RETRACTED}),
    S.CANCELLED: frozenset(),
    S.RETRACTED: frozenset(),
}

PENDING = frozenset({S.AWAITING_APPROVAL, S.SCHEDULED, S.CLAIMED, S.RETRY_WAITING})
"""Not yet handed to a platform: a sync, an edit or a cancel may still change these."""
IN_FLIGHT = frozenset({S.SENDING, S.UNKNOWN, S.NEEDS_REVIEW})
"""Possibly on the platform already: left alone, and reported when their post changes."""
FINISHED = frozenset({S.SENT, S.FAILED, S.MISSED, S.CANCELLED, S.RETRACTED})
ATTENTION = (S.FAILED, S.UNKNOWN, S.NEEDS_REVIEW, S.MISSED, S.AWAITING_APPROVAL)
"""What status shows first, most urgent first."""


def sources(target: DeliveryState) -> frozenset[DeliveryState]:
    """Every state from which ``target`` may be reached."""
    return frozenset(state for state, targets in TRANSITIONS.items() if target in targets)


def guard(
    target: DeliveryState, allowed_from: frozenset[DeliveryState]
) -> frozenset[DeliveryState]:
    """The states an UPDATE to ``target`` may start from: ``allowed_from``, checked against
    the machine. Asking for a move the machine does not allow is a bug, caught here. Staying
    in the same state (an edit of a scheduled delivery) is always allowed."""
    illegal = allowed_from - sources(target) - {target}
    if illegal:
        names = ", ".join(sorted(illegal))
        raise StoreError(f"a delivery cannot go from {names} to {target}")
    return allowed_from
