"""How the views write an instant for people to read: in UTC, to the minute or the second.
Shared by the terminal's status and the HTML pages (as the ``utc_minute`` and ``utc_second``
filters), so that both say the same time the same way."""

from __future__ import annotations

import datetime as dt


def utc_minute(instant: dt.datetime | None) -> str:
    """``2026-11-25 09:30 UTC``; empty for None."""
    return "" if instant is None else f"{instant.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


def utc_second(instant: dt.datetime | None) -> str:
    """``2026-11-25 09:30:12 UTC``; empty for None."""
    return "" if instant is None else f"{instant.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"
