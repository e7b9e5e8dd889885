"""`campaign engagement`: each sent post's counts (likes, reposts, replies...), fetched now."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import click

from adapters.capabilities import Platform
from scheduler.cli.common import EXIT_PROBLEMS, main, printable
from scheduler.cli.options import campaign_option, config_option, database_option

if TYPE_CHECKING:
    from scheduler.service.engagement import AccountNote, CollectionRun, Estimate


@main.command()
@click.option(
    "--platform",
    "platforms",
    type=click.Choice([str(p) for p in Platform]),
    multiple=True,
    help="Only this platform (repeatable; default: every platform).",
)
@click.option(
    "--estimate",
    is_flag=True,
    help="Say how many posts would be read and what X would cost; read nothing.",
)
@click.option(
    "--max-cost",
    type=click.FloatRange(min=0),
    metavar="USD",
    help="The most this run may spend on X (default: engagement.x_max_cost in the settings).",
)
@campaign_option("Only this campaign (default: every campaign in the database).")
@database_option
@config_option
def engagement(
    platforms: tuple[str, ...],
    estimate: bool,
    max_cost: float | None,
    campaign_id: str | None,
    database: str | None,
    config: Path | None,
) -> None:
    """Fetch each sent post's public counts from its platform, and keep them.

    One call per batch of posts per account (Mastodon 20, Bluesky 25, X 100). Posts asked
    about within engagement.fresh (30 min) are skipped, so a run stopped half-way resumes.
    Reading X costs money: the estimate is shown first, and X is skipped over the cap. Exit 0
    when every account answered, 1 when one was refused, rate-limited or skipped (its note is
    printed; the other accounts' counts are kept).
    """
    from scheduler.service.databases import open_existing
    from scheduler.service.engagement import collect
    from scheduler.settings import load_settings

    settings = load_settings(config)
    with closing(open_existing(database)) as opened:
        found = collect(opened, settings, campaign_id=campaign_id,
                        platforms=set(platforms) or None, max_cost=max_cost,
                        estimate_only=True)  # fmt: skip
        _print_estimate(found.estimate)
        if estimate or not found.estimate.posts:
            return
        run = collect(opened, settings, campaign_id=campaign_id,
                      platforms=set(platforms) or None, max_cost=max_cost,
                      progress=_print_progress)  # fmt: skip
    _print_summary(run)
    if not run.complete:
        raise SystemExit(EXIT_PROBLEMS)


def _print_estimate(estimate: Estimate) -> None:
    if not estimate.posts:
        click.echo("Nothing to fetch: every sent post's counts are fresh (engagement.fresh).")
        return
    per_platform = ", ".join(f"{name} {count}" for name, count in estimate.posts.items())
    total = sum(estimate.posts.values())
    click.echo(f"{total} sent posts on {estimate.accounts} accounts ({per_platform})")
    if estimate.x_reads:
        verdict = "over the cap: X will be skipped" if estimate.x_over_cap else "within the cap"
        click.echo(
            f"X: {estimate.x_reads} posts to read at ${estimate.x_cost_per_read:g} each: "
            f"${estimate.x_cost:.2f} at most, cap ${estimate.x_max_cost:.2f} ({verdict})"
        )


def _print_progress(note: AccountNote, done: bool) -> None:
    where = printable(f"{note.embassy_id} {note.platform} {note.handle}")
    if not done:
        click.echo(f"  {where}: {note.fetched + note.gone} of {note.asked}...")
        return
    click.echo(f"  {where}: {_outcome(note)}")


def _outcome(note: AccountNote) -> str:
    if note.skipped:
        return printable(f"skipped: {note.skipped}")
    got = f"{note.fetched} of {note.asked} fetched" + (f", {note.gone} gone" if note.gone else "")
    if note.error is None:
        return got
    until = f" until {note.error.reset_at:%Y-%m-%d %H:%M} UTC" if note.error.reset_at else ""
    return printable(f"{got}; stopped ({note.error.kind}{until}): {note.error.message}")


def _print_summary(run: CollectionRun) -> None:
    gone = sum(note.gone for note in run.notes.accounts)
    line = f"Fetched the counts of {run.fetched} posts"
    line += f"; {gone} no longer on their platform" if gone else ""
    refused = len(run.refused)
    if refused:
        line += f"; {refused} account{'s' * (refused != 1)} not collected (see above)"
    click.echo(line + ".")
