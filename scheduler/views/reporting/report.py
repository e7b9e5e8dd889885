"""`campaign report`: what went out (with its URL on the platform, and when, by the platform's
clock and ours), what was retracted (who, when, why; its dead URL shown but never linked), what
failed and why, what was missed or cancelled. As CSV, JSON or one self-contained HTML page.

The page (``templates/report.html``) loads nothing: the style sheet is inline, there is no
script, and a Content Security Policy says so to the browser. Every text from the store is
escaped; a link to a post is drawn only for an http(s) URL, so a stored ``javascript:`` URL
stays inert text.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from scheduler.service.reports import Engagement
from scheduler.store.queries import STATE_ORDER, ReportData, ReportRow
from scheduler.store.states import DeliveryState
from scheduler.views import pages
from scheduler.views.reporting import WHY, campaign_record, label, report_record, utc
from scheduler.views.reporting.results import (
    ENGAGEMENT_COLUMNS,
    Results,
    gather,
    reading_record,
    results_charts,
)

REPORT_FORMAT = 1
"""The version of the JSON shape; it goes up when a key changes meaning or disappears."""

CSV_COLUMNS = [
    "state",
    "delivery",
    "campaign",
    "post",
    "embassy",
    "platform",
    "account",
    "part",
    "parts",
    "language",
    "due_utc",
    "local_time",
    "timezone",
    "sent_at",
    "sent_clock",
    "our_sent_at",
    "remote_url",
    "remote_id",
    "retracted_at",
    "retracted_by",
    "retraction_reason",
    "error_class",
    "error_message",
    "attempts",
    "changed_after_sent",
    "state_since",
    "text",
]

SECTIONS: tuple[tuple[str, str, tuple[DeliveryState, ...]], ...] = (
    ("sent", "Sent", (DeliveryState.SENT,)),
    ("retracted", "Retracted", (DeliveryState.RETRACTED,)),
    ("failed", "Failed", (DeliveryState.FAILED,)),
    ("unresolved", "Outcome unknown", (DeliveryState.UNKNOWN, DeliveryState.NEEDS_REVIEW)),
    ("missed", "Missed", (DeliveryState.MISSED,)),
    ("cancelled", "Cancelled", (DeliveryState.CANCELLED,)),
)
"""The report's parts: an id (for JSON and anchors), a title, the states each one holds."""
PENDING = (
    DeliveryState.SCHEDULED,
    DeliveryState.CLAIMED,
    DeliveryState.SENDING,
    DeliveryState.RETRY_WAITING,
)
"""Deliveries still to go: counted in the report, not listed."""


@dataclass(frozen=True)
class ReportSummary:
    """What the report counts, and its sent rows: the dashboard's report page."""

    counts: list[tuple[str, str, int]]
    """Each part of the report (``SECTIONS``): its id, its title, how many deliveries."""
    pending: int
    awaiting_approval: int
    sent: list[ReportRow]


def report_summary(data: ReportData) -> ReportSummary:
    counts = data.states.counts
    return ReportSummary(
        counts=[(key, title, sum(counts[s] for s in states)) for key, title, states in SECTIONS],
        pending=sum(counts[state] for state in PENDING),
        awaiting_approval=counts[DeliveryState.AWAITING_APPROVAL],
        sent=data.section(DeliveryState.SENT),
    )


def report_json(data: ReportData, database: str) -> str:
    document = {
        "format": REPORT_FORMAT,
        "database": database,
        "generated_at": utc(data.now),
        "campaigns": [campaign_record(campaign) for campaign in data.campaigns],
        "states": {str(state): data.states.counts[state] for state in STATE_ORDER},
        "deliveries": [report_record(row) for row in data.rows],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def report_csv(data: ReportData) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in data.rows:
        record = report_record(row)
        record["changed_after_sent"] = "yes" if row.changed_after_sent else ""
        writer.writerow({key: "" if value is None else value for key, value in record.items()})
    return out.getvalue()


def report_results(data: ReportData, figures: Engagement | None) -> Results:
    """The results of the reported deliveries: none yet when ``figures`` is None (nothing was
    synced, or nothing collected)."""
    if figures is None:
        return gather(data.rows, [])
    return gather(data.rows, figures.readings, figures.last_run)


def engagement_json(results: Results, data: ReportData, database: str) -> str:
    """The latest value of each metric of each sent delivery, for scripts."""
    document = {
        "format": REPORT_FORMAT,
        "database": database,
        "generated_at": utc(data.now),
        "campaigns": [campaign_record(campaign) for campaign in data.campaigns],
        "figures": [reading_record(*reading) for reading in results.readings],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def engagement_csv(results: Results) -> str:
    """One row per sent delivery and metric, for headquarters' spreadsheets."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=ENGAGEMENT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for reading in results.readings:
        record = reading_record(*reading)
        writer.writerow({key: "" if value is None else value for key, value in record.items()})
    return out.getvalue()


# --- HTML ---------------------------------------------------------------------------------------


def report_html(data: ReportData, database: str, results: Results | None = None) -> str:
    """The whole page, ready to be written to a file and opened or mailed; with ``results``,
    what the platforms counted comes first."""
    counts = data.states.counts
    return pages.render(
        "report.html",
        results=results,
        charts=None if results is None else results_charts(results),
        names=", ".join(campaign.name for campaign in data.campaigns) or "No campaign",
        campaigns=data.campaigns,
        database=database,
        now=data.now,
        sections=[_Section.of(data, key, title, states) for key, title, states in SECTIONS],
        pending=sum(counts[state] for state in PENDING),
        awaiting_approval=counts[DeliveryState.AWAITING_APPROVAL],
    )


@dataclass(frozen=True, slots=True)
class _Section:
    key: str
    title: str
    count: int
    """Deliveries in these states, listed or not."""
    outcome: str
    """The heading of the column that says what became of each delivery."""
    lines: list[_Line]

    @classmethod
    def of(
        cls, data: ReportData, key: str, title: str, states: tuple[DeliveryState, ...]
    ) -> _Section:
        outcome = {"sent": "On the platform", "retracted": "Removed from the platform"}
        lines = [_Line.of(row) for row in data.section(*states)]
        count = sum(data.states.counts[state] for state in states)
        return cls(key, title, count, outcome.get(key, "Why"), lines)


@dataclass(frozen=True, slots=True)
class _Line:
    """One delivery of the report, with what its row says beyond the stored fields."""

    row: ReportRow
    sent: bool
    retracted: bool
    state_label: str
    """The state, for a row whose section does not already say it; else empty."""
    why: str

    @classmethod
    def of(cls, row: ReportRow) -> _Line:
        said_by_section = row.state in (
            DeliveryState.FAILED,
            DeliveryState.MISSED,
            DeliveryState.CANCELLED,
        )
        return cls(
            row=row,
            sent=row.state is DeliveryState.SENT,
            retracted=row.state is DeliveryState.RETRACTED,
            state_label="" if said_by_section else label(row.state),
            why=row.error_message or WHY.get(row.state, label(row.state)),
        )
