"""Commands on the shared store: db (upgrade, revision) and sync."""

from __future__ import annotations

import json
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from scheduler.cli.common import CampaignPath, main, print_problems, progress_steps
from scheduler.cli.options import actor_option, database_option

if TYPE_CHECKING:
    from scheduler.service.sync import SyncReport

# The service modules below load SQLAlchemy: each command imports them when it runs, so that
# `campaign --help` and `campaign validate` never pay for the database code.


@main.group()
def db() -> None:
    """The database: create it, migrate it, see its schema revision."""


@db.command("upgrade")
@database_option
def db_upgrade(database: str | None) -> None:
    """Migrate the database to this program's schema (creating it if needed)."""
    from scheduler.service.databases import migrate

    name, before, after = migrate(database)
    if before == after:
        click.echo(f"{name}: already at schema revision {after}")
    else:
        click.echo(f"{name}: upgraded from {before or 'empty'} to schema revision {after}")


@db.command("revision")
@database_option
def db_revision(database: str | None) -> None:
    """Show the database's schema revision and the one this program expects."""
    from scheduler.service.databases import revisions

    name, current, head = revisions(database)
    click.echo(f"{name}: at {current or 'empty'}; this program expects {head}")


@main.command()
@click.argument("file", type=CampaignPath)
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="List every delivery that changes.")
@database_option
@actor_option
def sync(
    file: Path, dry_run: bool, as_json: bool, verbose: bool, database: str | None, actor: str
) -> None:
    """Bring the database in line with a campaign file, in one transaction.

    New posts are scheduled, changed ones updated if not yet sent, removed ones cancelled.
    Sent posts are never touched; a change to one is reported. Queued posts are left alone.
    """
    from scheduler.service import sync as sync_service
    from scheduler.service import validation
    from scheduler.service.databases import open_for_sync

    with progress_steps("sync") as step:
        if step is not None:
            step(f"checking {file}")
        valid = validation.valid_file(file)  # an invalid file creates no database
        opened, missing = open_for_sync(database, dry_run=dry_run)
        with closing(opened):
            report, problems = sync_service.sync_valid(
                valid, opened, actor=actor, dry_run=dry_run, step=step
            )
    if missing and not as_json:  # JSON says it as "database_missing"
        click.secho(f"{missing}; shown against an empty database", fg="yellow", err=True)
    if as_json:
        document = _report_json(report, dry_run) | (
            {"database_missing": missing} if missing else {}
        )
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    print_problems([p for p in problems if p.is_error or p.severity == "warning"], False)
    _print_sync(report, dry_run, verbose)


def _print_sync(report: SyncReport, dry_run: bool, verbose: bool) -> None:
    from scheduler.service.sync import NEEDS_ATTENTION

    verb = "would change" if dry_run else "changed"
    per_post: Counter[tuple[str, str]] = Counter()
    for change in report.changes:
        if verbose or change.kind in NEEDS_ATTENTION:
            colour = "yellow" if change.kind in NEEDS_ATTENTION else None
            when = change.due_at.strftime("%Y-%m-%d %H:%M UTC")
            click.secho(f"{change.kind}: {change.key}  {when}  [{change.state}]", fg=colour)
        else:
            per_post[change.kind, change.key.split("/")[1]] += 1
    for (kind, post), count in sorted(per_post.items()):
        click.echo(f"{kind}: post {post}: {count} deliver{'y' if count == 1 else 'ies'}")
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(report.counts().items()))
    posts = (
        f"posts: {len(report.posts_added)} new, {len(report.posts_edited)} edited, "
        f"{len(report.posts_removed)} removed"
    )
    summary = f"{report.campaign_id}: {verb}: {counts or 'no deliveries'}; "
    summary += f"{report.unchanged} unchanged; {posts}"
    if report.awaiting_approval_again:
        summary += f"; {report.awaiting_approval_again} deliveries wait for approval again"
    if report.past_due:
        click.secho(report.past_due.describe(), fg="yellow")
    click.secho(summary + (" (dry run: nothing written)" if dry_run else ""), fg="green")


def _report_json(report: SyncReport, dry_run: bool) -> dict[str, Any]:
    return {
        "campaign": report.campaign_id,
        "dry_run": dry_run,
        "counts": {str(kind): n for kind, n in report.counts().items()},
        "unchanged": report.unchanged,
        "posts": {
            "added": report.posts_added,
            "edited": report.posts_edited,
            "removed": report.posts_removed,
        },
        "awaiting_approval_again": report.awaiting_approval_again,
        "past_due": {
            "late": report.past_due.late if report.past_due else 0,
            "missed": report.past_due.missed if report.past_due else 0,
            "grace_seconds": int(report.past_due.grace.total_seconds()) if report.past_due else 0,
        },
        "changes": [
            {
                "kind": str(change.kind),
                "delivery": change.key,
                "due_at": change.due_at.isoformat(),
                "state": change.state,
            }
            for change in report.changes
        ],
    }
