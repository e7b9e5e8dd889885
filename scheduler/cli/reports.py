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
    Counts are per local day (each embassy's own date), per embassy and per platform.
    """
    from scheduler.service import reports
    from scheduler.service.databases import open_existing

    with closing(open_existing(database)) as opened:
        data = reports.status(opened, campaign_id, attention_limit=limit or None)
    if as_json:
        from scheduler.views.reporting.status import status_json

        click.echo(status_json(data, opened.name), nl=False)
        return
    from scheduler.views.reporting.status import render_status

    click.echo(render_status(data, opened.name), nl=False)


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
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to this file (default: standard output; html: report.html).",
)
@database_option
@every_campaign
def report(
    output_format: str, output: Path | None, database: str | None, campaign_id: str | None
) -> None:
    """Report what was sent, retracted, failed (and why), missed or cancelled.

    Sent deliveries come with the post's URL on the platform and when the platform accepted it;
    retracted ones with who took them down, when and why (their URL no longer works).
    """
    from scheduler.service import reports
    from scheduler.service.databases import open_existing

    with closing(open_existing(database)) as opened:
        data = reports.report(opened, campaign_id)
    # Imported on demand, as the preview's renderers are: a CSV export need not load the HTML.
    if output_format == "csv":
        from scheduler.views.reporting.report import report_csv

        write_output(report_csv(data), output)
    elif output_format == "json":
        from scheduler.views.reporting.report import report_json

        write_output(report_json(data, opened.name), output)
    else:
        from scheduler.views.reporting.report import report_html

        write_output(report_html(data, opened.name), output or Path("report.html"))


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
