"""The delivery state machine: its table is complete, and illegal moves are refused in one place."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scheduler.errors import StoreError
from scheduler.store.states import (
    ATTENTION,
    FINISHED,
    IN_FLIGHT,
    PENDING,
    TRANSITIONS,
    DeliveryState,
    guard,
    sources,
)

STORE_DOC = Path(__file__).resolve().parent.parent / "docs" / "store.md"


def test_every_state_has_a_row() -> None:
    assert set(TRANSITIONS) == set(DeliveryState)


def test_every_state_but_the_first_can_be_reached() -> None:
    reachable = {DeliveryState.SCHEDULED, DeliveryState.AWAITING_APPROVAL}
    frontier = list(reachable)
    while frontier:
        for target in TRANSITIONS[frontier.pop()]:
            if target not in reachable:
                reachable.add(target)
                frontier.append(target)
    assert reachable == set(DeliveryState)


def test_sent_may_only_be_retracted_and_the_ends_are_final() -> None:
    assert TRANSITIONS[DeliveryState.SENT] == frozenset({DeliveryState.RETRACTED})
    assert TRANSITIONS[DeliveryState.CANCELLED] == frozenset()
    assert TRANSITIONS[DeliveryState.RETRACTED] == frozenset()


def test_nothing_leads_back_from_retracted_to_a_send() -> None:
    """A retracted copy is never sent again: no move starts from it, and the only way in is from
    sent (campaign retract)."""
    assert sources(DeliveryState.RETRACTED) == {DeliveryState.SENT}
    for target in (
        DeliveryState.SCHEDULED,
        DeliveryState.CLAIMED,
        DeliveryState.SENDING,
        DeliveryState.RETRY_WAITING,
        DeliveryState.SENT,
        DeliveryState.UNKNOWN,
    ):
        with pytest.raises(StoreError, match="cannot go from retracted"):
            guard(target, frozenset({DeliveryState.RETRACTED}))


def test_nothing_in_flight_can_be_cancelled_or_rescheduled_by_an_edit() -> None:
    # Only the daemon or reconciliation decides what became of a call that may have gone out.
    for state in IN_FLIGHT:
        assert DeliveryState.CANCELLED not in TRANSITIONS[state]
        assert DeliveryState.AWAITING_APPROVAL not in TRANSITIONS[state]


def test_the_groups_partition_the_states() -> None:
    groups = [PENDING, IN_FLIGHT, FINISHED]
    assert set().union(*groups) == set(DeliveryState)
    assert sum(len(group) for group in groups) == len(DeliveryState)
    assert set(ATTENTION) <= set(DeliveryState)


def test_a_pending_delivery_can_always_be_cancelled() -> None:
    for state in PENDING:
        assert DeliveryState.CANCELLED in TRANSITIONS[state]


def test_guard_refuses_a_move_the_machine_does_not_allow() -> None:
    with pytest.raises(StoreError, match="cannot go from sent to scheduled"):
        guard(DeliveryState.SCHEDULED, frozenset({DeliveryState.SENT}))
    assert guard(DeliveryState.SENDING, frozenset({DeliveryState.CLAIMED})) == {
        DeliveryState.CLAIMED
    }
    assert guard(DeliveryState.SCHEDULED, frozenset({DeliveryState.SCHEDULED})) == {
        DeliveryState.SCHEDULED
    }  # an edit in place


def test_sources_is_the_inverse_of_the_table() -> None:
    for state, targets in TRANSITIONS.items():
        for target in targets:
            assert state in sources(target)


def test_the_documented_table_is_the_code() -> None:
    """docs/store.md lists each state with the states it may move to."""
    rows = re.findall(r"^\| `(\w+)` \| ([^|]*) \|", STORE_DOC.read_text("utf-8"), re.MULTILINE)
    documented = {
        DeliveryState(state): frozenset(DeliveryState(t) for t in re.findall(r"`(\w+)`", targets))
        for state, targets in rows
    }
    assert documented == TRANSITIONS
