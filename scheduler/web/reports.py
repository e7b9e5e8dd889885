"""``/report``: what went out, with each post's link on its platform and what the platforms
counted for it, the counts by state, the last collection of the platforms' counts, and
the report to download: ``/report.csv``, ``/report.json``, ``/report.html``, the very bytes
`campaign report --format csv|json|html` writes (the same renderers, on the same query)."""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.responses import Response

from scheduler.service import reports
from scheduler.service.reports import ReportData
from scheduler.service.users import Permission
from scheduler.views.reporting.report import (
    report_csv,
    report_html,
    report_json,
    report_results,
    report_summary,
)
from scheduler.views.reporting.results import Results
from scheduler.web.auth import Endpoint, require
from scheduler.web.context import Visit

Renderer = Callable[[Visit, ReportData], str]
"""A report's text from its data (and the request's database, for its name and the results)."""


def _results(visit: Visit, data: ReportData) -> Results:
    figures = reports.engagement_figures(visit.database, visit.campaign) if data.campaigns else None
    return report_results(data, figures)


def _html(visit: Visit, data: ReportData) -> str:
    return report_html(data, visit.database.name, _results(visit, data))


DOWNLOADS: dict[str, tuple[str, Renderer]] = {
    "csv": ("text/csv; charset=utf-8", lambda _visit, data: report_csv(data)),
    "json": ("application/json", lambda visit, data: report_json(data, visit.database.name)),
    "html": ("text/html; charset=utf-8", _html),
}
"""Each format: its content type and its renderer (as `campaign report` calls it)."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def file_name(data: ReportData, campaign: str | None, extension: str) -> str:
    """``report-<campaign>-<date>.<ext>``: the campaign chosen, or the only one, or "all"."""
    if campaign is None and len(data.campaigns) == 1:
        campaign = data.campaigns[0].id
    named = _UNSAFE.sub("-", campaign or "all-campaigns")
    return f"report-{named}-{data.now.date().isoformat()}.{extension}"


@require(Permission.VIEW)
def report_page(visit: Visit) -> Response:
    data = reports.report(visit.database, visit.campaign, now=visit.now())
    return visit.render(
        "web/report.html", data=data, summary=report_summary(data), results=_results(visit, data)
    )


def download(extension: str) -> Endpoint:
    content_type, renderer = DOWNLOADS[extension]

    def handler(visit: Visit) -> Response:
        data = reports.report(visit.database, visit.campaign, now=visit.now())
        body = renderer(visit, data).encode("utf-8")
        name = file_name(data, visit.campaign, extension)
        return Response(
            body,
            media_type=content_type,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    handler.__name__ = handler.__qualname__ = f"report_{extension}"
    return require(Permission.VIEW)(handler)


report_csv_download = download("csv")
report_json_download = download("json")
report_html_download = download("html")
