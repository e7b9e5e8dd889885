"""``/calendar``: days by embassies, each delivery with its local time, platform, account, part,
state (in words), post and, once sent, its link; filtered by platform, language, state and
embassy, a period at a time (``start``, ``days``), with links to the previous and next period.

The filter form is a plain GET form: without JavaScript it reloads the page; with htmx it
swaps only the grid (``HX-Request``) and puts the filters in the address bar.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.responses import Response

from scheduler.errors import UsageError
from scheduler.service import dashboard
from scheduler.service.dashboard import CalendarData
from scheduler.service.users import Permission
from scheduler.web.auth import require
from scheduler.web.context import Visit

DEFAULT_DAYS = 7


def parse_start(text: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"start: {text!r} is not a date; expected YYYY-MM-DD") from None


def parse_days(text: str) -> int:
    if not text:
        return DEFAULT_DAYS
    try:
        return int(text)
    except ValueError:
        raise UsageError(
            f"days: {text!r} is not a whole number; expected 1 to {dashboard.MAX_DAYS}"
        ) from None


def period_params(data: CalendarData, start: dt.date) -> dict[str, object]:
    """The query of the same calendar from ``start``: every filter chosen kept."""
    chosen = data.filters
    return {
        "start": start.isoformat(),
        "days": data.days,
        "platform": chosen.platform,
        "language": chosen.language,
        "state": chosen.state,
        "embassy": chosen.embassy,
    }


def _calendar(visit: Visit) -> CalendarData:
    query = visit.request.query_params

    def given(name: str) -> str | None:  # "" is a select's "All"
        return query.get(name, "").strip() or None

    return dashboard.calendar(
        visit.database,
        campaign_id=visit.campaign,
        start=parse_start(given("start") or ""),
        days=parse_days(given("days") or ""),
        platform=given("platform"),
        language=given("language"),
        state=given("state"),
        embassy=given("embassy"),
        now=visit.now(),
    )


@require(Permission.VIEW)
def calendar_page(visit: Visit) -> Response:
    swapping = visit.request.headers.get("hx-request") == "true"
    try:
        data = _calendar(visit)
    except UsageError as exc:
        if not swapping:
            raise  # the 400 page, with the message naming the field
        # htmx swaps only a 2xx answer: the message goes where the grid was.
        return visit.fragment("web/calendar_grid.html", data=None, error=str(exc))
    step = dt.timedelta(days=data.days)
    context: dict[str, Any] = {
        "data": data,
        "error": None,
        "today": data.now.date(),
        "previous": period_params(data, data.start - step),
        "next": period_params(data, data.start + step),
    }
    if swapping:
        return visit.fragment("web/calendar_grid.html", **context)
    return visit.render("web/calendar.html", **context)
