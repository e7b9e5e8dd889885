"""JSON and CSV previews, for scripts and spreadsheets."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from scheduler.campaign.planner import Delivery, Plan
from scheduler.campaign.sourcemap import SourceMap
from scheduler.problems import Problem
from scheduler.views.preview import Summary, delivery_record

CSV_COLUMNS = [
    "id",
    "post",
    "embassy",
    "platform",
    "account",
    "part",
    "parts",
    "due_utc",
    "local_time",
    "timezone",
    "utc_offset",
    "language",
    "length",
    "limit",
    "content_warning",
    "visibility",
    "replies",
    "media",
    "alt_texts",
    "source_line",
    "text",
]


def to_json(
    plan: Plan,
    deliveries: list[Delivery],
    summary: Summary,
    problems: list[Problem],
    source: SourceMap | None = None,
) -> str:
    document: dict[str, Any] = {
        "campaign": {
            "id": plan.campaign_id,
            "name": plan.campaign_name,
            "start": plan.window_start.isoformat(),
            "end": plan.window_end.isoformat(),
        },
        "summary": summary.as_dict(),
        "problems": [problem.as_dict() for problem in problems],
        "deliveries": [delivery_record(delivery, source) for delivery in deliveries],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def to_csv(deliveries: list[Delivery], source: SourceMap | None = None) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for delivery in deliveries:
        record = delivery_record(delivery, source)
        record["alt_texts"] = " | ".join(item["alt"] for item in record["media"])
        record["media"] = " | ".join(item["file"] for item in record["media"])
        record["content_warning"] = record["content_warning"] or ""
        writer.writerow(record)
    return out.getvalue()
