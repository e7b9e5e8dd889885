"""``/``: the overview, what `campaign status` says, for the browser: the problems first (each
with its reason, its next action and the command that does it), the pauses in force, then the
counts (today's, and the campaign's)."""

from __future__ import annotations

from starlette.responses import Response

from scheduler.service import dashboard
from scheduler.service.users import Permission
from scheduler.web.auth import require
from scheduler.web.context import Visit

PROBLEMS_SHOWN = 20
"""Problems listed on the overview; the Problems page lists them all."""


@require(Permission.VIEW)
def overview(visit: Visit) -> Response:
    found = dashboard.overview(visit.database, campaign_id=visit.campaign, now=visit.now())
    data = found.status
    return visit.render(
        "web/overview.html",
        data=data,
        today=data.per_day.get(data.now.date()),
        problems=found.problems,
        shown=PROBLEMS_SHOWN,
    )
