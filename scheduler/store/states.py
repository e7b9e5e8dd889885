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


TRANSITIONS: dict[DeliveryState, frozenset[DeliveryState]] = {
    DeliveryState.AWAITING_APPROVAL: frozenset(
        {DeliveryState.SCHEDULED, DeliveryState.CANCELLED, DeliveryState.MISSED}
    ),
    DeliveryState.SCHEDULED: frozenset(
        {
            DeliveryState.CLAIMED,
            DeliveryState.AWAITING_APPROVAL,
            DeliveryState.CANCELLED,
            DeliveryState.MISSED,
        }
    ),
    DeliveryState.CLAIMED: frozenset(
        {
            DeliveryState.SENDING,
            DeliveryState.SCHEDULED,
            DeliveryState.AWAITING_APPROVAL,
            DeliveryState.CANCELLED,
            DeliveryState.MISSED,
            DeliveryState.RETRY_WAITING,
        }
    ),
    DeliveryState.SENDING: frozenset(
        {
            DeliveryState.SENT,
            DeliveryState.FAILED,
            DeliveryState.RETRY_WAITING,
            DeliveryState.UNKNOWN,
        }
    ),
    DeliveryState.RETRY_WAITING: frozenset(
        {
            DeliveryState.CLAIMED,
            DeliveryState.SCHEDULED,
            DeliveryState.AWAITING_APPROVAL,
            DeliveryState.CANCELLED,
            DeliveryState.MISSED,
        }
    ),
    DeliveryState.UNKNOWN: frozenset(
        {
            DeliveryState.SENT,
            DeliveryState.SCHEDULED,
            DeliveryState.NEEDS_REVIEW,
            DeliveryState.FAILED,
        }
    ),
    DeliveryState.NEEDS_REVIEW: frozenset(
        {DeliveryState.SENT, DeliveryState.FAILED, DeliveryState.SCHEDULED}
    ),
    # An operator may put a failed or missed delivery back on the schedule.
    DeliveryState.FAILED: frozenset({DeliveryState.SCHEDULED}),
    DeliveryState.MISSED: frozenset({DeliveryState.SCHEDULED}),
    DeliveryState.SENT: frozenset({DeliveryState.RETRACTED}),
    DeliveryState.CANCELLED: frozenset(),
    DeliveryState.RETRACTED: frozenset(),
}

PENDING = frozenset(
    {
        DeliveryState.AWAITING_APPROVAL,
        DeliveryState.SCHEDULED,
        DeliveryState.CLAIMED,
        DeliveryState.RETRY_WAITING,
    }
)
"""Not yet handed to a platform: a sync, an edit or a cancel may still change these."""
IN_FLIGHT = frozenset({DeliveryState.SENDING, DeliveryState.UNKNOWN, DeliveryState.NEEDS_REVIEW})
"""Possibly on the platform already: left alone, and reported when their post changes."""
FINISHED = frozenset(
    {
        DeliveryState.SENT,
        DeliveryState.FAILED,
        DeliveryState.MISSED,
        DeliveryState.CANCELLED,
        DeliveryState.RETRACTED,
    }
)
ATTENTION = (
    DeliveryState.FAILED,
    DeliveryState.UNKNOWN,
    DeliveryState.NEEDS_REVIEW,
    DeliveryState.MISSED,
    DeliveryState.AWAITING_APPROVAL,
)
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
