"""``/audit``: the audit log, newest first: who did what, when, from the dashboard, the CLI and
the daemon alike; filtered by user and action, a page at a time ("older" goes on from the last
entry shown). `campaign audit` prints the same entries."""

from __future__ import annotations

from starlette.responses import Response

from scheduler.errors import UsageError
from scheduler.service import reports
from scheduler.service.users import Permission
from scheduler.web.auth import require
from scheduler.web.context import Visit

PAGE_SIZE = 50
"""Entries on one page of the audit log."""


def parse_before(text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit():
        raise UsageError(f"before: {text!r} is not an entry number")
    return int(text)


@require(Permission.VIEW)
def audit_page(visit: Visit) -> Response:
    query = visit.request.query_params
    actor = query.get("user", "").strip() or None
    action = query.get("action", "").strip() or None
    entries = reports.audit_entries(
        visit.database,
        campaign_id=visit.campaign,
        actor=actor,
        action=action,
        limit=PAGE_SIZE + 1,  # one more than shown: is there an older page?
        before_id=parse_before(query.get("before", "").strip()),
    )
    actors, actions = reports.audit_choices(visit.database)
    shown = entries[:PAGE_SIZE]
    older = (
        {"user": actor, "action": action, "before": shown[-1].id}
        if len(entries) > PAGE_SIZE
        else None
    )
    return visit.render(
        "web/audit.html",
        entries=shown,
        actors=actors,
        actions=actions,
        actor=actor,
        action=action,
        older=older,
        paged=bool(query.get("before")),
    )
