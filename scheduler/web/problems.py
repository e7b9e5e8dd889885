"""``/problems``: everything that needs a person, grouped by kind (failed, unknown outcome,
needs review, missed, accounts that cannot post), each with its reason, its next action and
the command that does it."""

from __future__ import annotations

from starlette.responses import Response

from scheduler.service import dashboard
from scheduler.service.dashboard import ProblemItem, ProblemKind
from scheduler.service.users import Permission
from scheduler.web.auth import require
from scheduler.web.context import Visit


def by_kind(items: list[ProblemItem]) -> list[tuple[ProblemKind, list[ProblemItem]]]:
    """The problems in groups, in the order of ``ProblemKind`` (the most urgent first), each
    group in the service's order; a kind without problems is left out."""
    return [
        (kind, found)
        for kind in ProblemKind
        if (found := [item for item in items if item.kind is kind])
    ]


@require(Permission.VIEW)
def problems_page(visit: Visit) -> Response:
    items = dashboard.problems(visit.database, campaign_id=visit.campaign, now=visit.now())
    return visit.render("web/problems.html", groups=by_kind(items), total=len(items))
