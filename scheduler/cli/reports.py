"""Commands that read the store and change nothing: status, report and audit."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import click

from scheduler.cli.common import main, opened_database, printable, write_output
from scheduler.cli.options import campaign_option, database_option
from scheduler.defaults import ATTENTION_LIMIT, AUDIT_LIMIT, MAX_AUDIT_LIMIT

# The service and the views import the store: each command imports them when it runs, so that
# `campaign --help` loads no database code.

REPORT_FORMATS = ("csv", "json", "html")
AUDIT_FORMATS = ("table", "json")

every_campaign = campaign_option("Only this campaign (default: every campaign in the database).")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    metavar="N",
    default=ATTENTION_LIMIT,
    show_default=True,
    help="List at most this many deliveries that need attention; 0 lists them all.",
)
@database_option
@every_campaign
def status(as_json: bool, limit: int, database: str | None, campaign_id: str | None) -> None:
    """Show what needs attention, pauses, blocked accounts, retractions and counts.

    What needs attention comes first: failed, unknown, needs review, missed, awaiting approval.
    Then the last collection of the platforms' counts (when, how many, what went wrong).
    Counts are per local day (each embassy's own date), per embassy and per platform.
    """
    from scheduler.service import reports
    from scheduler.service.databases import open_existing
    from scheduler.views.reporting.collection import last_collection

    with closing(open_existing(database)) as opened:
        data = reports.status(opened, campaign_id, attention_limit=limit or None)
        run = reports.last_engagement_run(opened, campaign_id) if data.campaigns else None
    last = None if run is None else last_collection(run)
    if as_json:
        from scheduler.views.reporting.status import status_json

        click.echo(status_json(data, opened.name, last), nl=False)
        return
    from scheduler.views.reporting.status import render_status

    click.echo(render_status(data, opened.name, last=last), nl=False)


@main.command()
@click.option(
    "-f",
    "--format",
    "output_format",
    type=click.Choice(REPORT_FORMATS),
    required=True,
    help="csv or json for scripts and spreadsheets; html for one page to share.",
)
@click.option(
    "--engagement",
    is_flag=True,
    help="csv or json: the platforms' counts, one row per sent delivery and metric.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to this file (default: standard output; html: report.html).",
)
@database_option
@every_campaign
def report(
    output_format: str,
    engagement: bool,
    output: Path | None,
    database: str | None,
    campaign_id: str | None,
) -> None:
    """Report what was sent, retracted, failed (and why), missed or cancelled, and what the
    platforms counted.

    Sent deliveries come with the post's URL on the platform and when the platform accepted it;
    retracted ones with who took them down, when and why (their URL no longer works). The html
    page starts with the results: the platforms' counts per embassy, platform, language and day,
    top posts, posts that under-performed, charts, and the last collection's problems.
    """
    if engagement and output_format == "html":
        raise click.UsageError("--engagement: csv or json (the html page holds the results)")
    from scheduler.service import reports
    from scheduler.service.databases import open_existing

    with closing(open_existing(database)) as opened:
        data = reports.report(opened, campaign_id)
        figures = reports.engagement_figures(opened, campaign_id) if data.campaigns else None
    # Imported on demand, as the preview's renderers are: a CSV export need not load the HTML.
    from scheduler.views.reporting import report as views

    if engagement:
        results = views.report_results(data, figures)
        if output_format == "csv":
            write_output(views.engagement_csv(results), output)
        else:
            write_output(views.engagement_json(results, data, opened.name), output)
    elif output_format == "csv":
        write_output(views.report_csv(data), output)
    elif output_format == "json":
        write_output(views.report_json(data, opened.name), output)
    else:
        results = views.report_results(data, figures)
        write_output(views.report_html(data, opened.name, results), output or Path("report.html"))


@main.command()
@click.option("--user", "actor", metavar="NAME", help="Only what this person (or the daemon) did.")
@click.option("--action", metavar="ACTION", help="Only this action, e.g. approve or pause.")
@click.option(
    "--limit",
    type=click.IntRange(min=1, max=MAX_AUDIT_LIMIT),
    metavar="N",
    default=AUDIT_LIMIT,
    show_default=True,
    help="Print at most this many entries, the newest.",
)
@click.option(
    "-f",
    "--format",
    "output_format",
    type=click.Choice(AUDIT_FORMATS),
    default="table",
    show_default=True,
    help="table for people; json for scripts.",
)
@database_option
@campaign_option("Only this campaign's entries (and those of no campaign, such as logging in).")
def audit(
    actor: str | None,
    action: str | None,
    limit: int,
    output_format: str,
    database: str | None,
    campaign_id: str | None,
) -> None:
    """Show the audit log: who did what, and when, newest first.

    Every change is in it, made on the command line, by the daemon or on the web dashboard
    (with the name of the user logged in). It reads the database and changes nothing.
    """
    from scheduler.service import reports
    from scheduler.views.reporting.audit import audit_json, audit_lines

    with opened_database(database) as opened:
        entries = reports.audit_entries(
            opened, campaign_id=campaign_id, actor=actor, action=action, limit=limit
        )
    if output_format == "json":
        click.echo(audit_json(entries), nl=False)
        return
    for line in audit_lines(entries):
        click.echo(printable(line))
