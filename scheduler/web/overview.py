"""``/``: the overview, what `campaign status` says, for the browser: what needs attention
first, the accounts that cannot post, then the counts (today's, and the campaign's)."""

from __future__ import annotations

from starlette.responses import Response

from scheduler.service import reports
from scheduler.service.users import Permission
from scheduler.web.auth import require
from scheduler.web.context import Visit

ATTENTION_SHOWN = 20
"""Deliveries needing attention listed on the overview; the Problems page lists them all."""


@require(Permission.VIEW)
def overview(visit: Visit) -> Response:
    data = reports.status(
        visit.database, visit.campaign, attention_limit=ATTENTION_SHOWN, now=visit.now()
    )
    today = data.per_day.get(data.now.date())
    return visit.render("web/overview.html", data=data, today=today)
