"""Issue 3's finish line, with the real campaign and only the CLI, on SQLite and PostgreSQL:
sync campaigns.yaml, queue an extra post into the next slot, approve it, cancel another post,
and see all of it in status and report."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from scheduler.cli import main

REAL_CAMPAIGN = Path(__file__).resolve().parent.parent / "campaigns.yaml"
REAL_DELIVERIES = 867


def test_a_team_runs_the_real_campaign_from_the_cli(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REAL_CAMPAIGN.parent)
    runner = CliRunner()

    def run(*args: str, actor: str = "ines") -> Result:
        env = {"CAMPAIGN_DATABASE": database_url, "CAMPAIGN_USER": actor}
        result = runner.invoke(main, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result

    run("sync", str(REAL_CAMPAIGN))
    queued = run(
        "queue", "add", "--id", "extra-helpline",
        "--text", "en={embassy}: if you face abuse online, you are not alone. #16Days",
        "--text", "fr={embassy} : face à la violence en ligne, vous n'êtes pas seul·e. #16Days",
        "--text", "nl={embassy}: wie online geweld meemaakt, staat er niet alleen voor. #16Days",
        "--embassy", "be-tokyo", "--embassy", "be-canberra",
        actor="marc",
    )  # fmt: skip
    assert "be-tokyo: next free slot" in queued.output
    assert "be-canberra: next free slot" in queued.output
    run("approve", "extra-helpline")  # ines: not the author
    run("approve", "d01-launch", actor="marc")  # ines synced the file: she is its author
    run("queue", "cancel", "d10-resolution", "--reason", "the vote was postponed")

    status: dict[str, Any] = json.loads(run("status", "--json").output)
    assert status["total"] == REAL_DELIVERIES + 6  # two embassies x three platforms
    states = status["states"]
    cancelled = states["cancelled"]
    assert cancelled > 0
    assert states["scheduled"] == 6 + 48  # the extra post, and launch at 16 embassies x 3
    assert states["awaiting_approval"] == REAL_DELIVERIES - 48 - cancelled
    waiting = [d for d in status["attention"]["deliveries"] if d["state"] == "awaiting_approval"]
    assert waiting, "status lists what awaits approval"

    report = run("report", "--format", "csv").output
    rows = list(csv.DictReader(io.StringIO(report)))
    reasons = {row["error_message"] for row in rows if row["state"] == "cancelled"}
    assert reasons == {"cancelled by ines: the vote was postponed"}
    assert {row["post"] for row in rows if row["state"] == "cancelled"} == {"d10-resolution"}
