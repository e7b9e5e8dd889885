"""The last collection of the platforms' counts, in words: when, how many, and for each account
that could not be read, what happened and what to do. `campaign status` and the report's results
both show it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from scheduler.store.documents import AccountNote
from scheduler.store.engagement import RunRecord
from scheduler.views.instants import utc_minute
from scheduler.views.reporting import PLATFORM_NAMES, slug


@dataclass(frozen=True, slots=True)
class Trouble:
    """What went wrong for one account in a collection, and what to do about it."""

    embassy: str
    platform: str
    handle: str
    kind: str
    """``401``, ``402``, ``429``, ``other`` or ``skipped``."""
    happened: str
    to_do: str
    said: str
    """The platform's or the collection's own words, for whoever digs further."""

    @property
    def anchor(self) -> str:
        """Its note's id in a page, for the deliveries it left unread to link to."""
        return f"trouble-{slug(self.platform)}-{slug(self.embassy)}"


@dataclass(frozen=True, slots=True)
class LastCollection:
    started_at: dt.datetime
    finished_at: dt.datetime | None
    trigger: str
    figures: int
    """Posts whose counts were read."""
    asked: int
    troubles: list[Trouble]
    x_cost: float | None


def last_collection(run: RunRecord) -> LastCollection:
    notes = run.notes
    return LastCollection(
        started_at=run.started_at,
        finished_at=run.finished_at,
        trigger=run.trigger,
        figures=sum(note.fetched for note in notes.accounts),
        asked=sum(note.asked for note in notes.accounts),
        troubles=[_trouble(note) for note in notes.errors],
        x_cost=notes.x_cost,
    )


def _trouble(note: AccountNote) -> Trouble:
    name = PLATFORM_NAMES.get(note.platform, note.platform)
    error = note.error
    kind = "skipped" if error is None else error.kind
    reset = (
        "" if error is None or error.reset_at is None else f" until {utc_minute(error.reset_at)}"
    )
    happened, to_do = {
        "401": (
            f"{name} refused the account's credentials (401): its figures could not be read.",
            f"Check the account (`campaign check`), renew its token (`campaign auth "
            f"{note.platform} --account {note.embassy_id}`), then run `campaign engagement`.",
        ),
        "402": (
            "X refused to read more posts: the account's plan is out of credits (402).",
            "Add credits in X's developer console, or collect the other platforms alone "
            "(`campaign engagement --platform mastodon --platform bluesky`).",
        ),
        "429": (
            f"{name} asked us to slow down (429){reset}: some figures were not read.",
            "Nothing: the next collection reads them, or run `campaign engagement` later.",
        ),
        "other": (
            f"{name} could not be read: the platform did not answer as expected.",
            "Run `campaign engagement` again later; if it persists, check the platform's status.",
        ),
        "skipped": (f"Not read: {note.skipped}.", _skipped_to_do(note.skipped or "")),
    }[kind]
    said = "" if error is None else error.message
    return Trouble(note.embassy_id, note.platform, note.handle, kind, happened, to_do, said)


def _skipped_to_do(reason: str) -> str:
    if "cap" in reason:
        return (
            "See the estimate with `campaign engagement --estimate`; raise the cap "
            "(`engagement.x_max_cost` or `--max-cost`) if the cost is worth it."
        )
    if "credits" in reason:
        return "Add credits in X's developer console, then run `campaign engagement`."
    return "Nothing: the next collection reads it."
