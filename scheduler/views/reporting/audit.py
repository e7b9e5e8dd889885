"""`campaign audit`: the audit log as a table for people or JSON for scripts, newest first.

Details are printed as written; they never hold a secret (a password or a token is never put in
them: the audit log records that a password changed, never what to)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from scheduler.store.audit import AuditRecord
from scheduler.views.reporting import utc

AUDIT_FORMAT = 1
"""The version of the JSON shape; it goes up when a key changes meaning or disappears."""
COLUMNS = ("id", "at (UTC)", "who", "action", "campaign", "subject", "details")


def audit_record(entry: AuditRecord) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": utc(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "campaign": entry.campaign_id,
        "subject": entry.subject,
        "details": entry.details,
    }


def audit_json(entries: Sequence[AuditRecord]) -> str:
    document = {"format": AUDIT_FORMAT, "entries": [audit_record(e) for e in entries]}
    return json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"


def _details(details: dict[str, Any]) -> str:
    return ", ".join(
        f"{name}={json.dumps(value, ensure_ascii=False, default=str)}"
        for name, value in sorted(details.items())
    )


def audit_lines(entries: Sequence[AuditRecord]) -> list[str]:
    """A header and one line per entry, the columns as wide as their widest value (never the
    terminal's width); the details last, as ``name=value`` pairs."""
    rows = [COLUMNS] + [
        (
            str(e.id),
            f"{e.at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S}",
            e.actor,
            e.action,
            e.campaign_id or "-",
            e.subject or "-",
            _details(e.details),
        )
        for e in entries
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    return [
        "  ".join(
            [*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]]
        ).rstrip()
        for row in rows
    ]
