"""Commands that read a campaign file and touch nothing else: validate, schema, preview."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import click

from adapters.capabilities import Platform
from scheduler.cli.common import (
    EXIT_PROBLEMS,
    CampaignPath,
    main,
    print_problems,
    write_chunks,
    write_output,
)
from scheduler.errors import UsageError
from scheduler.problems import summarize as count_problems

if TYPE_CHECKING:
    from scheduler.campaign.planner import Delivery, Plan
    from scheduler.problems import Problem
    from scheduler.views.preview import Summary

# Each command imports the checks, the planner and the views when it runs: they load the text
# length counters (twitter-text takes a second), which `campaign --help` does without.


@main.command()
@click.argument("file", type=CampaignPath)
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Also list notices (policy decisions).")
def validate(file: Path, as_json: bool, verbose: bool) -> None:
    """Check a campaign file and report every problem in it at once.

    Exits 1 when there is an error; warnings alone do not fail.
    """
    from scheduler.service import validation

    result = validation.validate_file(file)
    if as_json:
        report = {
            "file": str(file),
            "ok": result.ok,
            "deliveries": len(result.plan.deliveries) if result.plan else None,
            "problems": [problem.as_dict() for problem in result.problems],
        }
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print_problems(result.problems, verbose, hint="--verbose lists them")
        planned = f", {len(result.plan.deliveries)} deliveries planned" if result.plan else ""
        click.secho(
            f"{file}: {count_problems(result.problems)}{planned}",
            fg="green" if result.ok else "red",
        )
    if not result.ok:
        sys.exit(EXIT_PROBLEMS)


@main.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to this file instead of standard output.",
)
def schema(output: Path | None) -> None:
    """Print the JSON Schema of the campaign file, for editor autocompletion."""
    from scheduler.campaign.model import json_schema

    write_output(json.dumps(json_schema(), indent=2) + "\n", output)


def _parse_day(plan: Plan, text: str) -> dt.date:
    """A campaign day or a date, refused alike (exit 2, naming the window) when outside it."""
    last = (plan.window_end - plan.window_start).days + 1
    window = f"{plan.window_start} to {plan.window_end}"
    outside = (
        f"--day {text}: not in the campaign, which runs from day 1 to day {last} ({window}); "
        "expected a day number or a date in it"
    )
    if text.isdigit():
        # Checked before any date arithmetic: '²' or '99999999999' must not reach timedelta.
        if not text.isascii() or not 1 <= int(text) <= last:
            raise UsageError(outside)
        return plan.window_start + dt.timedelta(days=int(text) - 1)
    try:
        day = dt.date.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(
            f"--day {text}: expected a day number (1 to {last}) or a date like "
            f"{plan.window_start}; the campaign runs from {window}"
        ) from exc
    if not plan.window_start <= day <= plan.window_end:
        raise UsageError(outside)
    return day


def _decimal(value: str, option: str) -> Decimal:
    # Plain amounts only: 'inf', 'NaN', '-1' or '1e9999' would break or falsify the estimate.
    if not re.fullmatch(r"\d{1,6}(\.\d{1,6})?", value.strip()):
        raise click.BadParameter(
            f"expected a price in USD such as 0.015, found {value!r}", param_hint=option
        )
    return Decimal(value.strip())


PREVIEW_FORMATS = ("table", "json", "csv", "html")


@main.command()
@click.argument("file", type=CampaignPath)
@click.option(
    "-f",
    "--format",
    "output_format",
    type=click.Choice(PREVIEW_FORMATS),
    default="table",
    show_default=True,
    help="How to show the preview.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to this file (default: standard output; html: preview.html).",
)
@click.option("--embassy", "embassies", multiple=True, help="Only this embassy id (repeatable).")
@click.option(
    "--platform",
    "platforms",
    multiple=True,
    type=click.Choice([str(p) for p in Platform]),
    help="Only this platform (repeatable).",
)
@click.option(
    "--day",
    "days",
    multiple=True,
    help="Only this campaign day (1, 2, ...) or local date (repeatable).",
)
@click.option("--language", "languages", multiple=True, help="Only this language (repeatable).")
@click.option(
    "--x-price-per-post",
    envvar="CAMPAIGN_X_PRICE_PER_POST",
    default="0.015",
    show_default=True,
    help="USD per X post created (env CAMPAIGN_X_PRICE_PER_POST).",
)
@click.option(
    "--x-price-per-url-post",
    envvar="CAMPAIGN_X_PRICE_PER_URL_POST",
    default="0.20",
    show_default=True,
    help="USD per X post carrying a URL (env CAMPAIGN_X_PRICE_PER_URL_POST).",
)
def preview(
    file: Path,
    output_format: str,
    output: Path | None,
    embassies: tuple[str, ...],
    platforms: tuple[str, ...],
    days: tuple[str, ...],
    languages: tuple[str, ...],
    x_price_per_post: str,
    x_price_per_url_post: str,
) -> None:
    """Show exactly what would be posted, where and when, without sending anything."""
    from scheduler.service import validation
    from scheduler.views.preview import Filters, XPricing, select, summarize_plan

    plan, problems = validation.plan_file(file)
    _check_known("--embassy", embassies, {d.embassy_id for d in plan.deliveries})
    _check_known("--language", languages, {d.language for d in plan.deliveries})
    filters = Filters(
        embassies,
        tuple(Platform(p) for p in platforms),
        tuple(_parse_day(plan, day) for day in days),
        languages,
    )
    deliveries = select(plan, filters)
    pricing = XPricing(
        _decimal(x_price_per_post, "--x-price-per-post / CAMPAIGN_X_PRICE_PER_POST"),
        _decimal(x_price_per_url_post, "--x-price-per-url-post / CAMPAIGN_X_PRICE_PER_URL_POST"),
    )
    summary = summarize_plan(deliveries, pricing)
    if output_format == "html" and output is None:
        output = Path("preview.html")
    chunks = _render(output_format, plan, deliveries, summary, problems, file.parent, filters.days)
    write_chunks(chunks, output)


def _check_known(option: str, given: tuple[str, ...], known: set[str]) -> None:
    """A filter value that matches nothing in the plan is a typo, not an empty preview."""
    unknown = [value for value in given if value not in known]
    if unknown:
        noun = option.removeprefix("--")
        raise UsageError(
            f"{option} {unknown[0]}: no such {noun} in the plan; expected one of: "
            + ", ".join(sorted(known))
        )


def _render(
    output_format: str,
    plan: Plan,
    deliveries: list[Delivery],
    summary: Summary,
    problems: list[Problem],
    folder: Path,
    days: tuple[dt.date, ...] = (),
) -> Iterable[str]:
    # Imported on demand: a JSON preview in a script should not pay for rich or the HTML code.
    # JSON and CSV are written as they are made, a delivery at a time.
    if output_format == "json":
        from scheduler.views.preview.csv_json import json_chunks

        return json_chunks(plan, deliveries, summary, problems, plan.source)
    if output_format == "csv":
        from scheduler.views.preview.csv_json import csv_chunks

        return csv_chunks(deliveries, plan.source)
    if output_format == "html":
        from scheduler.views.preview.html import render_html

        return [render_html(plan, deliveries, summary, problems, media_folder=folder, days=days)]
    from scheduler.views.preview.terminal import render_table

    return [render_table(plan, deliveries, summary, problems)]
