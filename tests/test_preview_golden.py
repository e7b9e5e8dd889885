"""The previews of tests/golden/campaign.yaml, compared byte for byte with committed files.

The campaign has three embassies (one in Kathmandu, UTC+05:45), a thread with a content warning,
limited replies and an image. A difference is either a regression or an intended change; for
the latter, regenerate the files and review their diff:

    UPDATE_GOLDEN=1 pytest tests/test_preview_golden.py
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from scheduler.cli import main
from scheduler.service import validation
from scheduler.views.preview import Filters, XPricing, select, summarize_plan
from scheduler.views.preview.html import render_html
from scheduler.views.preview.terminal import render_table

GOLDEN = Path(__file__).resolve().parent / "golden"
CAMPAIGN = "campaign.yaml"
TABLE_WIDTH = 120


@pytest.fixture(autouse=True)
def in_golden_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the campaign's folder so that outputs name it 'campaign.yaml', wherever we are."""
    monkeypatch.chdir(GOLDEN)


def preview_through_cli(output_format: str) -> str:
    result = CliRunner().invoke(main, ["preview", CAMPAIGN, "-f", output_format])
    assert result.exit_code == 0, result.output
    return result.stdout


def table_at_fixed_width() -> str:
    plan, problems = validation.plan_file(Path(CAMPAIGN))
    deliveries = select(plan, Filters())
    summary = summarize_plan(deliveries, XPricing())
    return render_table(plan, deliveries, summary, problems, width=TABLE_WIDTH, colour=False)


def html_page() -> str:
    plan, problems = validation.plan_file(Path(CAMPAIGN))
    deliveries = select(plan, Filters())
    summary = summarize_plan(deliveries, XPricing())
    return render_html(plan, deliveries, summary, problems, Path("."))


RENDERERS: dict[str, Callable[[], str]] = {
    "preview.html": html_page,
    "preview.json": lambda: preview_through_cli("json"),
    "preview.csv": lambda: preview_through_cli("csv"),
    "preview-table.txt": table_at_fixed_width,
}


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_preview_matches_golden_file(name: str) -> None:
    actual = RENDERERS[name]()
    golden = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_bytes(actual.encode("utf-8"))
    assert golden.exists(), f"no {golden.name}; create it with UPDATE_GOLDEN=1"
    expected = golden.read_bytes().decode("utf-8")
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                f"golden/{name}",
                "actual",
            )
        )
        pytest.fail(f"{name} differs from the golden file (UPDATE_GOLDEN=1 to accept):\n{diff}")


def test_table_does_not_depend_on_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("FORCE_COLOR", "1")
    narrow_and_coloured_terminal = table_at_fixed_width()
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.delenv("FORCE_COLOR")
    assert table_at_fixed_width() == narrow_and_coloured_terminal
    assert "\x1b[" not in narrow_and_coloured_terminal
    assert max(map(len, narrow_and_coloured_terminal.splitlines())) <= TABLE_WIDTH


def test_golden_campaign_covers_what_it_claims() -> None:
    """The features the goldens are meant to pin down are really in the campaign."""
    plan, problems = validation.plan_file(Path(CAMPAIGN))
    offsets = {d.local_time - d.due_at.replace(tzinfo=None) for d in plan.deliveries}
    assert any(offset.seconds % 3600 == 45 * 60 for offset in offsets)  # Asia/Kathmandu
    assert len({d.embassy_id for d in plan.deliveries}) == 3
    assert any(d.parts > 1 for d in plan.deliveries)
    assert any(d.content_warning for d in plan.deliveries)  # native, on Mastodon
    assert any(d.text.startswith("CW: ") for d in plan.deliveries)  # prepended elsewhere
    assert any(d.replies != "everyone" for d in plan.deliveries)
    assert any(d.media for d in plan.deliveries)
    assert {p.code for p in problems} >= {"replies-unsupported", "language-fallback"}
