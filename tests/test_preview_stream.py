"""The JSON and CSV previews are written a piece at a time: the pieces make exactly the text
that json.dumps (and csv's writer) make of the whole document, whatever the plan holds."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from scheduler.campaign.planner import Plan
from scheduler.problems import Problem
from scheduler.service import validation
from scheduler.views.preview import Filters, XPricing, delivery_record, select, summarize_plan
from scheduler.views.preview.csv_json import CSV_COLUMNS, csv_chunks, json_chunks

CAMPAIGNS = [
    Path(__file__).resolve().parent / "golden" / "campaign.yaml",
    Path(__file__).resolve().parent.parent / "campaigns.yaml",
]


def _planned(path: Path) -> tuple[Plan, list[Problem]]:
    return validation.plan_file(path)


def _whole_json(plan: Plan, filters: Filters, problems: list[Problem]) -> str:
    """The document as the preview made it before it was streamed: one json.dumps."""
    deliveries = select(plan, filters)
    summary = summarize_plan(deliveries, XPricing()).as_dict()
    summary["posts_per_account_per_day"] = list(summary["posts_per_account_per_day"])
    document: dict[str, Any] = {
        "campaign": {
            "id": plan.campaign_id,
            "name": plan.campaign_name,
            "start": plan.window_start.isoformat(),
            "end": plan.window_end.isoformat(),
        },
        "summary": summary,
        "problems": [problem.as_dict() for problem in problems],
        "deliveries": [delivery_record(delivery, plan.source) for delivery in deliveries],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("path", CAMPAIGNS, ids=lambda path: path.name)
@pytest.mark.parametrize("filters", [Filters(), Filters(languages=("none",))], ids=["all", "none"])
@pytest.mark.parametrize("with_problems", [True, False])
def test_the_json_pieces_make_json_dumps_text(
    path: Path, filters: Filters, with_problems: bool
) -> None:
    plan, problems = _planned(path)
    problems = problems if with_problems else []
    deliveries = select(plan, filters)
    summary = summarize_plan(deliveries, XPricing())
    pieces = list(json_chunks(plan, deliveries, summary, problems, plan.source))
    assert "".join(pieces) == _whole_json(plan, filters, problems)
    if deliveries:
        assert len(pieces) > len(deliveries)  # never the whole document in one piece


@pytest.mark.parametrize("path", CAMPAIGNS, ids=lambda path: path.name)
def test_the_csv_rows_make_the_whole_csv(path: Path) -> None:
    plan, _ = _planned(path)
    rows = list(csv_chunks(plan.deliveries, plan.source))
    assert len(rows) == len(plan.deliveries) + 1
    parsed = list(csv.DictReader(io.StringIO("".join(rows))))
    assert [row["id"] for row in parsed] == [delivery.id for delivery in plan.deliveries]
    assert list(parsed[0]) == CSV_COLUMNS


def test_an_empty_csv_still_has_its_header() -> None:
    assert "".join(csv_chunks([])) == ",".join(CSV_COLUMNS) + "\n"
