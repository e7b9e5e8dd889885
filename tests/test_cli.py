"""Every `campaign` command through click's runner: outputs, filters, exit codes, help."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import jsonschema  # type: ignore[import-untyped]
import pytest
from cli_fixtures import DELIVERIES, X_POSTS, X_POSTS_WITH_URL, write_campaign_text
from click.testing import CliRunner, Result
from ruamel.yaml import YAML

from scheduler.cli import EXIT_PROBLEMS, EXIT_USAGE, main

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, prog_name="campaign")


def assert_no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


@pytest.fixture
def campaign(tmp_path: Path) -> Path:
    return write_campaign_text(tmp_path)


def preview_json(campaign: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = run("preview", str(campaign), "-f", "json", *args, env=env)
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


# validate


def test_validate_ok_file_exits_0_with_a_summary_line(campaign: Path) -> None:
    result = run("validate", str(campaign))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        f"{campaign}: 0 errors, 0 warnings, 1 notice, {DELIVERIES} deliveries planned"
    )
    assert "(1 notice not shown; --verbose lists them)" in result.output


def test_validate_verbose_lists_notices(campaign: Path) -> None:
    result = run("validate", "-v", str(campaign))
    assert result.exit_code == 0, result.output
    assert (
        f"{campaign}:44:7: notice: posts[1].text: post 'report' has no 'ja' text" in result.output
    )
    assert "not shown" not in result.output


def test_validate_warnings_do_not_fail(tmp_path: Path) -> None:
    text = write_campaign_text(tmp_path).read_text(encoding="utf-8")
    file = write_campaign_text(
        tmp_path, text.replace("#OrangeTheWorld", "#orangetheworld"), "w.yaml"
    )
    result = run("validate", str(file))
    assert result.exit_code == 0, result.output
    assert f"{file}:10:14: warning: campaign.hashtags[0]: screen readers read" in result.output
    assert "0 errors, 1 warning, 1 notice" in result.output


def test_validate_json_of_an_ok_file(campaign: Path) -> None:
    result = run("validate", "--json", str(campaign))
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["file"], report["ok"], report["deliveries"]) == (str(campaign), True, DELIVERIES)
    assert [problem["code"] for problem in report["problems"]] == ["language-fallback"]


def test_validate_errors_exit_1(tmp_path: Path) -> None:
    text = write_campaign_text(tmp_path).read_text(encoding="utf-8")
    file = write_campaign_text(tmp_path, text.replace("Asia/Tokyo", "Asia/Tokio"), "bad.yaml")
    result = run("validate", str(file))
    assert_no_traceback(result)
    assert result.exit_code == EXIT_PROBLEMS
    assert f"{file}:15:15: error: embassies[0].timezone: 'Asia/Tokio' is not a time zone" in (
        result.output
    )


# schema


def _json_ready(value: Any) -> Any:
    """YAML dates and times as the strings a JSON document would hold."""
    if isinstance(value, dict):
        return {str(key): _json_ready(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_ready(item) for item in value]
    if isinstance(value, dt.date):  # datetime too
        return value.isoformat()
    return value


def _schema() -> dict[str, Any]:
    result = run("schema")
    assert result.exit_code == 0, result.output
    schema: dict[str, Any] = json.loads(result.stdout)
    return schema


def _example_campaigns() -> list[Any]:
    examples: list[Any] = [pytest.param(None, id="cli-fixture")]
    for path in (ROOT / "campaigns.yaml", ROOT / "tests" / "golden" / "campaign.yaml"):
        missing = pytest.mark.skipif(not path.exists(), reason=f"{path.name} not written yet")
        examples.append(pytest.param(path, id=path.parent.name + "/" + path.name, marks=missing))
    return examples


@pytest.mark.parametrize("example", _example_campaigns())
def test_schema_accepts_the_example_campaigns(example: Path | None, tmp_path: Path) -> None:
    schema = _schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    file = example or write_campaign_text(tmp_path)
    data = _json_ready(YAML(typ="safe", pure=True).load(file.read_text(encoding="utf-8")))
    jsonschema.Draft202012Validator(schema).validate(data)


def test_schema_rejects_an_unknown_key(tmp_path: Path) -> None:
    schema = _schema()
    data = _json_ready(YAML(typ="safe", pure=True).load(write_campaign_text(tmp_path)))
    data["posts"][0]["txet"] = data["posts"][0].pop("text")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(data)


def test_schema_output_option_writes_the_same_schema(tmp_path: Path) -> None:
    target = tmp_path / "campaign.schema.json"
    result = run("schema", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert f"wrote {target}" in result.stderr
    assert json.loads(target.read_text(encoding="utf-8")) == _schema()
    assert not list(tmp_path.glob("*.partial"))


# preview


def test_preview_table(campaign: Path) -> None:
    result = run("preview", str(campaign))
    assert result.exit_code == 0, result.output
    assert "16 Days of Activism (sixteen-days), 2026-11-25 to 2026-12-10 - dry run" in result.output
    assert "Day 1 - Wednesday 25 November 2026 (local dates)" in result.output
    assert "Day 3 - Friday 27 November 2026" in result.output
    assert "09:00 Asia/Kathmandu" in result.output
    assert "\x1b[" not in result.output  # no colour when not on a terminal


def test_preview_json(campaign: Path) -> None:
    document = preview_json(campaign)
    assert document["campaign"]["id"] == "sixteen-days"
    assert document["summary"]["deliveries"] == len(document["deliveries"]) == DELIVERIES
    first = document["deliveries"][0]
    assert (first["embassy"], first["platform"], first["due_utc"]) == (
        "be-tokyo",
        "x",
        "2026-11-25T00:00:00Z",
    )
    kathmandu = [d for d in document["deliveries"] if d["embassy"] == "be-kathmandu"]
    assert {d["utc_offset"] for d in kathmandu} == {"UTC+05:45"}
    assert "credentials" not in first and "be-tokyo-x" not in json.dumps(document)


def test_preview_csv(campaign: Path) -> None:
    result = run("preview", str(campaign), "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == DELIVERIES
    assert rows[0]["id"] == "launch/be-tokyo/x/1"
    assert rows[0]["media"] == "media/card.png"
    assert rows[0]["alt_texts"] == "オレンジ色のキャンペーンカード"


def test_preview_html_to_a_file(campaign: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "preview.html"
    target.parent.mkdir()
    result = run("preview", str(campaign), "-f", "html", "-o", str(target))
    assert result.exit_code == 0, result.output
    page = target.read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith("<!doctype html")
    assert "be-kathmandu" in page
    assert not list(target.parent.glob("*.partial"))


def test_preview_html_defaults_to_preview_html(
    campaign: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("preview", str(campaign), "-f", "html")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "preview.html").is_file()


def test_preview_of_a_broken_file_lists_its_problems(tmp_path: Path) -> None:
    text = write_campaign_text(tmp_path).read_text(encoding="utf-8")
    file = write_campaign_text(tmp_path, text.replace("day: 1", "day: 0"), "bad.yaml")
    result = run("preview", str(file))
    assert_no_traceback(result)
    assert result.exit_code == EXIT_PROBLEMS
    assert f"{file}:33:10: error: posts[0].day: found the number 0" in result.output
    # The other posts are still planned: their notices (a second language) are counted too.
    assert f"{file}: 1 error, 0 warnings, 1 notice" in result.output


# preview filters


def _ids(document: dict[str, Any]) -> list[str]:
    return [delivery["id"] for delivery in document["deliveries"]]


def test_filter_by_embassy(campaign: Path) -> None:
    document = preview_json(campaign, "--embassy", "be-tokyo")
    assert {d["embassy"] for d in document["deliveries"]} == {"be-tokyo"}
    assert len(document["deliveries"]) == 4


def test_filter_by_platform(campaign: Path) -> None:
    document = preview_json(campaign, "--platform", "mastodon")
    assert _ids(document) == ["launch/be-kathmandu/mastodon/1", "report/be-kathmandu/mastodon/1"]


@pytest.mark.parametrize("day", ["3", "2026-11-27"])
def test_filter_by_day_number_or_date(campaign: Path, day: str) -> None:
    document = preview_json(campaign, "--day", day)
    assert {d["post"] for d in document["deliveries"]} == {"report"}
    assert {d["local_time"][:10] for d in document["deliveries"]} == {"2026-11-27"}
    assert len(document["deliveries"]) == 4


def test_filter_by_language(campaign: Path) -> None:
    document = preview_json(campaign, "--language", "ja")
    assert _ids(document) == ["launch/be-tokyo/x/1", "launch/be-tokyo/bluesky/1"]


def test_filters_combine_and_repeat(campaign: Path) -> None:
    document = preview_json(
        campaign, "--embassy", "be-tokyo", "--embassy", "be-kathmandu", "--platform", "x"
    )
    assert {d["platform"] for d in document["deliveries"]} == {"x"}
    assert document["summary"]["deliveries"] == X_POSTS


OUTSIDE = (
    "not in the campaign, which runs from day 1 to day 16 (2026-11-25 to 2026-12-10); "
    "expected a day number or a date in it"
)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--embassy", "be-paris"],
            "error: --embassy be-paris: no such embassy in the plan; "
            "expected one of: be-kathmandu, be-tokyo",
        ),
        (
            ["--language", "de"],
            "error: --language de: no such language in the plan; expected one of: ",
        ),
        (["--day", "17"], f"error: --day 17: {OUTSIDE}"),
        (["--day", "0"], f"error: --day 0: {OUTSIDE}"),
        (["--day", "99999999999"], f"error: --day 99999999999: {OUTSIDE}"),
        (["--day", "²"], f"error: --day ²: {OUTSIDE}"),
        # A date outside the window is refused like a day number outside it (issue 10, item 16)
        (["--day", "2027-01-01"], f"error: --day 2027-01-01: {OUTSIDE}"),
        (["--day", "2026-11-24"], f"error: --day 2026-11-24: {OUTSIDE}"),
        (
            ["--day", "tomorrow"],
            "error: --day tomorrow: expected a day number (1 to 16) or a date like 2026-11-25; "
            "the campaign runs from 2026-11-25 to 2026-12-10",
        ),
    ],
)
def test_bad_filters_exit_2_with_a_clear_message(
    campaign: Path, args: list[str], message: str
) -> None:
    result = run("preview", str(campaign), *args)
    assert_no_traceback(result)
    assert result.exit_code == EXIT_USAGE
    assert message in result.stderr
    assert result.stdout == ""


def test_unknown_platform_is_refused_by_click(campaign: Path) -> None:
    result = run("preview", str(campaign), "--platform", "twitter")
    assert_no_traceback(result)
    assert result.exit_code == EXIT_USAGE
    assert "'twitter' is not one of 'x', 'mastodon', 'bluesky'" in result.stderr


# X pricing


def _x_cost(document: dict[str, Any]) -> Decimal:
    return Decimal(document["summary"]["x"]["estimated_cost_usd"])


def test_x_cost_uses_the_default_prices(campaign: Path) -> None:
    summary = preview_json(campaign)["summary"]["x"]
    assert (summary["posts"], summary["posts_with_url"]) == (X_POSTS, X_POSTS_WITH_URL)
    assert Decimal(summary["estimated_cost_usd"]) == Decimal("0.43")  # 2 x 0.015 + 2 x 0.20


def test_x_price_options_change_the_cost(campaign: Path) -> None:
    document = preview_json(campaign, "--x-price-per-post", "1", "--x-price-per-url-post", "10")
    assert _x_cost(document) == Decimal("22.00")
    assert document["summary"]["x"]["price_per_post_usd"] == "1"


def test_x_price_environment_variables_change_the_cost(campaign: Path) -> None:
    env = {"CAMPAIGN_X_PRICE_PER_POST": "0.5", "CAMPAIGN_X_PRICE_PER_URL_POST": "2"}
    assert _x_cost(preview_json(campaign, env=env)) == Decimal("5.00")


def test_x_price_option_wins_over_the_environment(campaign: Path) -> None:
    env = {"CAMPAIGN_X_PRICE_PER_POST": "0.5"}
    document = preview_json(campaign, "--x-price-per-post", "0", env=env)
    assert _x_cost(document) == Decimal("0.40")


def test_x_cost_appears_in_the_table(campaign: Path) -> None:
    result = run("preview", str(campaign), "--x-price-per-post", "1")
    assert result.exit_code == 0, result.output
    assert "$2.40" in result.output


@pytest.mark.parametrize("price", ["abc", "inf", "NaN", "-1", "1e9999"])
def test_bad_x_price_is_a_usage_error(campaign: Path, price: str) -> None:
    result = run("preview", str(campaign), "--x-price-per-post", price)
    assert_no_traceback(result)
    assert result.exit_code == EXIT_USAGE
    assert "--x-price-per-post" in result.stderr
    assert f"expected a price in USD such as 0.015, found '{price}'" in result.stderr


# --output failures


@pytest.mark.parametrize("where", ["missing-folder", "file-as-folder"])
def test_unwritable_output_is_a_clean_error_and_leaves_nothing(
    campaign: Path, tmp_path: Path, where: str
) -> None:
    parent = tmp_path / where
    if where == "file-as-folder":
        parent.write_text("not a folder", encoding="utf-8")
    target = parent / "preview.json"
    result = run("preview", str(campaign), "-f", "json", "-o", str(target))
    assert_no_traceback(result)
    assert result.exit_code == EXIT_PROBLEMS
    assert f"error: cannot write {target}: " in result.stderr
    assert not target.exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        ["campaign.yaml", "media", where]
        if where == "file-as-folder"
        else ["campaign.yaml", "media"]
    )


def test_failed_rename_leaves_no_partial_file(
    campaign: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that fails half-way (here: at the final rename) leaves neither file behind."""

    def refuse(self: Path, target: Path) -> Path:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "replace", refuse)
    target = tmp_path / "schema.json"
    result = run("schema", "-o", str(target))
    assert_no_traceback(result)
    assert result.exit_code == EXIT_PROBLEMS
    assert f"error: cannot write {target}: Permission denied" in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["campaign.yaml", "media"]


def test_existing_output_is_replaced_whole(campaign: Path, tmp_path: Path) -> None:
    target = tmp_path / "preview.csv"
    target.write_text("old contents that are much longer than nothing\n" * 1000, "utf-8")
    result = run("preview", str(campaign), "-f", "csv", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8").startswith("id,post,embassy,")
    assert "old contents" not in target.read_text(encoding="utf-8")


# help


def _commands() -> list[str]:
    return sorted(main.commands)


def test_the_expected_commands_exist() -> None:
    assert {"validate", "schema", "preview"} <= set(_commands())


@pytest.mark.parametrize("name", _commands())
def test_every_command_has_help(name: str) -> None:
    command = main.commands[name]
    assert command.help and command.help.strip(), f"{name} has no docstring"
    result = run(name, "--help")
    assert result.exit_code == 0, result.output
    assert f"Usage: campaign {name}" in result.output
    # click wraps help at the terminal's width: compare the words, not the line breaks.
    first = " ".join(command.help.strip().splitlines()[0].split())
    assert first in " ".join(result.output.split())
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"{name} {param.opts[0]} has no help text"


def test_main_help_lists_every_command() -> None:
    result = run("--help")
    assert result.exit_code == 0, result.output
    assert main.help and main.help.strip()
    for name in _commands():
        assert f"  {name} " in result.output


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0, result.output
    assert "version" in result.output
