"""`campaign engagement`: each sent post's public counts, fetched now from its platform and kept
(the collection itself is ``scheduler.daemon.engagement``, which the daemon's schedule runs too).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

# The collection's names the CLI needs (it does not import the daemon), re-exported as they are.
from scheduler.daemon.engagement import AccountNote as AccountNote
from scheduler.daemon.engagement import CollectionRun as CollectionRun
from scheduler.daemon.engagement import Estimate as Estimate
from scheduler.daemon.engagement import Progress
from scheduler.daemon.engagement import collect as _collect
from scheduler.service.clock import now_utc
from scheduler.settings import Settings
from scheduler.store.database import Database


def collect(
    database: Database,
    settings: Settings,
    *,
    campaign_id: str | None = None,
    platforms: Collection[str] | None = None,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
    max_cost: float | None = None,
    estimate_only: bool = False,
) -> CollectionRun:
    """Ask each platform for the counts of the sent posts (of ``campaign_id``, on
    ``platforms``) not asked about within ``engagement.fresh``, and keep them, one batch at a
    time; the run with its notes per account.

    ``now``: the instant of every snapshot (tests); by default campaign time at each batch (a
    rehearsal's clock file, see ``service.clock``). ``max_cost``: the cap on X for this run, in
    USD, instead of ``engagement.x_max_cost``. ``estimate_only``: count and price what would be
    read; nothing is asked or written."""

    def clock() -> dt.datetime:
        return now if now is not None else now_utc()

    return _collect(database, settings, clock=clock, campaign_id=campaign_id,
                    platforms=platforms, progress=progress, max_cost=max_cost,
                    estimate_only=estimate_only)  # fmt: skip
