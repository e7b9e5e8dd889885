"""The `campaign` command: one sub-command per job.

This is the one place where library errors become messages for people: a CampaignError prints
what is wrong and exits non-zero, never with a traceback.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import click

from adapters.capabilities import Platform
from scheduler import service
from scheduler.errors import CampaignError, CampaignFileError, ConfigurationError, UsageError
from scheduler.model import json_schema
from scheduler.planner import Delivery, Plan
from scheduler.preview import Filters, Summary, XPricing, select, summarize
from scheduler.problems import Problem, Severity
from scheduler.problems import summarize as count_problems

EXIT_PROBLEMS = 1
EXIT_USAGE = 2

_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.NOTICE: "cyan"}


class CampaignGroup(click.Group):
    """Turns our errors into messages and exit codes, in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CampaignFileError as exc:
            _print_problems(exc.problems, verbose=False)
            _fail(f"{exc.file}: {count_problems(exc.problems)}", EXIT_PROBLEMS)
        except UsageError as exc:
            _fail(f"error: {exc}", EXIT_USAGE)
        except CampaignError as exc:
            _fail(f"error: {exc}", EXIT_PROBLEMS)


def _fail(message: str, code: int) -> NoReturn:
    click.secho(message, fg="red", err=True)
    sys.exit(code)


@click.group(cls=CampaignGroup)
@click.version_option(package_name="campaign-scheduler")
def main() -> None:
    """Plan, check, preview and send coordinated social-media campaigns."""


CampaignPath = click.Path(path_type=Path, dir_okay=False)


@main.command()
@click.argument("file", type=CampaignPath)
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Also list notices (policy decisions).")
def validate(file: Path, as_json: bool, verbose: bool) -> None:
    """Check a campaign file and report every problem in it at once.

    Exits 1 when there is an error; warnings alone do not fail.
    """
    result = service.validate_file(file)
    if as_json:
        report = {
            "file": str(file),
            "ok": result.ok,
            "deliveries": len(result.plan.deliveries) if result.plan else None,
            "problems": [problem.as_dict() for problem in result.problems],
        }
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        _print_problems(result.problems, verbose)
        planned = f", {len(result.plan.deliveries)} deliveries planned" if result.plan else ""
        click.secho(
            f"{file}: {count_problems(result.problems)}{planned}",
            fg="green" if result.ok else "red",
        )
    if not result.ok:
        sys.exit(EXIT_PROBLEMS)


def _print_problems(problems: list[Problem], verbose: bool) -> None:
    hidden = 0
    for problem in problems:
        if problem.severity is Severity.NOTICE and not verbose:
            hidden += 1
            continue
        click.secho(str(problem), fg=_COLOURS[problem.severity])
    if hidden:
        click.echo(f"({hidden} notice{'s' * (hidden != 1)} not shown; --verbose lists them)")


@main.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to this file instead of standard output.",
)
def schema(output: Path | None) -> None:
    """Print the JSON Schema of the campaign file, for editor autocompletion."""
    _write(json.dumps(json_schema(), indent=2) + "\n", output)


def _write(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    partial = output.with_name(output.name + ".partial")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(output)  # never leave a half-written file behind
    except OSError as exc:
        with contextlib.suppress(OSError):  # a failed write or rename leaves no .partial behind
            partial.unlink(missing_ok=True)
        raise ConfigurationError(f"cannot write {output}: {exc.strerror}") from exc
    click.echo(f"wrote {output}", err=True)


def _parse_day(plan: Plan, text: str) -> dt.date:
    if text.isdigit():
        last = (plan.window_end - plan.window_start).days + 1
        # Checked before any date arithmetic: '²' or '99999999999' must not reach timedelta.
        if not text.isascii() or not 1 <= int(text) <= last:
            raise UsageError(f"--day {text}: expected a campaign day from 1 to {last}")
        return plan.window_start + dt.timedelta(days=int(text) - 1)
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"--day {text}: expected a day number or a date like 2026-11-27") from exc


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
    help="Only this platform.",
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
    plan, problems = service.plan_file(file)
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
    summary = summarize(deliveries, pricing)
    if output_format == "html" and output is None:
        output = Path("preview.html")
    _write(_render(output_format, plan, deliveries, summary, problems, file.parent), output)


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
) -> str:
    # Imported on demand: a JSON preview in a script should not pay for rich or the HTML code.
    if output_format == "json":
        from scheduler.preview.tabular import to_json

        return to_json(plan, deliveries, summary, problems, plan.source)
    if output_format == "csv":
        from scheduler.preview.tabular import to_csv

        return to_csv(deliveries, plan.source)
    if output_format == "html":
        from scheduler.preview.html import render_html

        return render_html(plan, deliveries, summary, problems, media_folder=folder)
    from scheduler.preview.table import render_table

    return render_table(plan, deliveries, summary, problems)
