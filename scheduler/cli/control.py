"""The brake and the undo: pause, resume, retract."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import click

from adapters.capabilities import Platform
from scheduler.cli.common import main
from scheduler.cli.options import (
    F,
    actor_option,
    campaign_option,
    config_option,
    database_option,
    one_campaign,
)

# Each command imports the service it calls when it runs: they load the database code, which
# `campaign --help` and `campaign validate` do without.

scoped_campaign = campaign_option("Only this campaign (default: every campaign).")


def _scope_options(command: F) -> F:
    for option in reversed(
        [
            click.option("--embassy", metavar="ID", help="Only this embassy's accounts."),
            click.option(
                "--platform",
                type=click.Choice([str(p) for p in Platform]),
                help="Only this platform.",
            ),
            click.option("--post", metavar="ID", help="Only this post."),
        ]
    ):
        command = option(command)
    return command


@main.command()
@_scope_options
@click.option("--reason", required=True, help="Why: shown in status and sent as an alert.")
@scoped_campaign
@database_option
@actor_option
def pause(
    embassy: str | None,
    platform: str | None,
    post: str | None,
    reason: str,
    campaign_id: str | None,
    database: str | None,
    actor: str,
) -> None:
    """Pull the brake: nothing in scope is claimed by any daemon from now on.

    Without --embassy, --platform or --post, everything stops. Calls already in flight finish.
    """
    from scheduler.service import control
    from scheduler.service.databases import open_existing

    scope = control.Scope(campaign_id, embassy, platform, post)
    with closing(open_existing(database)) as opened:
        pause_id = control.pause(opened, scope, reason=reason, actor=actor)
    click.secho(f"paused {scope.describe()} (pause {pause_id}): {reason}", fg="yellow")


@main.command()
@_scope_options
@click.option("--pause", "pause_id", type=int, metavar="N", help="Lift pause N (see status).")
@scoped_campaign
@database_option
@actor_option
def resume(
    embassy: str | None,
    platform: str | None,
    post: str | None,
    pause_id: int | None,
    campaign_id: str | None,
    database: str | None,
    actor: str,
) -> None:
    """Lift the pauses of exactly this scope; release the suspended accounts in it.

    Deliveries that became too late while paused are reported as missed, not sent late.
    """
    from scheduler.service import control
    from scheduler.service.databases import open_existing

    scope = None if pause_id is not None else control.Scope(campaign_id, embassy, platform, post)
    with closing(open_existing(database)) as opened:
        lifted, released = control.resume(opened, scope, pause_id=pause_id, actor=actor)
    click.secho(f"resumed: {lifted} pause(s) lifted, {released} account(s) released", fg="green")


@main.command()
@click.argument("post_id", metavar="POST")
@click.option(
    "--reason",
    required=True,
    help="Why: kept with each retracted copy, shown in status and report, sent as an alert.",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@one_campaign
@config_option
@database_option
@actor_option
def retract(
    post_id: str,
    reason: str,
    yes: bool,
    campaign_id: str | None,
    config: Path | None,
    database: str | None,
    actor: str,
) -> None:
    """Delete every sent copy of a post, on every platform, and cancel the rest.

    Asks for confirmation first. Each copy deleted becomes retracted, with who (--as), when and
    why (--reason); each deletion is recorded in the audit log, and the outcome is printed per
    account; exits 1 if any copy could not be deleted.
    """
    from scheduler.service import retraction
    from scheduler.service.databases import open_existing
    from scheduler.settings import load_settings

    reason = retraction.retraction_reason(reason)  # a blank one is refused before anything else
    settings = load_settings(config)
    with closing(open_existing(database or settings.database)) as opened:
        copies = retraction.sent_copies(opened, post_id, campaign_id)
        unsent = retraction.unsent_copies(opened, post_id, campaign_id)
        if not copies and not unsent:
            click.echo(f"{post_id}: no copy is on a platform and none waits; nothing to retract")
            return
        for key, account, url in copies:
            click.echo(f"  {account}: {url or key}")
        question = _retract_question(post_id, len(copies), unsent)
        if not yes and not click.confirm(question, default=False):
            raise click.Abort
        results = retraction.retract(
            opened, settings, post_id, actor=actor, reason=reason, campaign_id=campaign_id
        )
    for result in results:
        colour = "green" if result.outcome == "deleted" else "red"
        click.secho(
            f"{result.account}: {result.outcome}  {result.url or result.delivery}", fg=colour
        )
    failed = sum(result.outcome != "deleted" for result in results)
    click.echo(f"{post_id}: {len(results) - failed} deleted, {failed} not deleted")
    if failed:
        raise SystemExit(1)


def _retract_question(post_id: str, sent: int, unsent: int) -> str:
    """What retract will do, with both numbers: "Delete these 2 copies of launch and cancel
    the 5 not sent yet?"."""

    def copies(count: int) -> str:
        return f"{count} cop{'y' if count == 1 else 'ies'}"

    delete = (
        f"Delete {'this' if sent == 1 else 'these'} {copies(sent)} of {post_id}"
        if sent
        else f"No copy of {post_id} is on a platform. Delete nothing"
    )
    cancel = (
        f"cancel the {copies(unsent)} not sent yet" if unsent else "cancel nothing (none waits)"
    )
    return f"{delete} and {cancel}?"


@main.command()
@click.argument("delivery", metavar="DELIVERY")
@click.option("--posted", "posted_url", metavar="URL", help="It is on the platform, at URL.")
@click.option("--not-posted", is_flag=True, help="It is not there: send it (again).")
@click.option("--retry", is_flag=True, help="Failed or missed: put it back on the schedule.")
@click.option("--give-up", is_flag=True, help="Do not send it: mark it failed.")
@database_option
@actor_option
def settle(
    delivery: str,
    posted_url: str | None,
    not_posted: bool,
    retry: bool,
    give_up: bool,
    database: str | None,
    actor: str,
) -> None:
    """Decide, for one delivery, what the daemon could not.

    For a delivery whose outcome is unknown or under review, or one that failed or was missed.
    DELIVERY is its id as status shows it (post/embassy/platform/part), or its whole key with
    the campaign first, as report shows it; an id in several campaigns needs the whole key.
    """
    given = {
        "posted": posted_url is not None,
        "not-posted": not_posted,
        "retry": retry,
        "give-up": give_up,
    }
    chosen = [name for name, flag in given.items() if flag]
    if len(chosen) != 1:
        raise click.UsageError("give exactly one of --posted URL, --not-posted, --retry, --give-up")
    from scheduler.service import settlement
    from scheduler.service.databases import open_existing

    with closing(open_existing(database)) as opened:
        key, state = settlement.settle(opened, delivery, chosen[0], actor=actor, url=posted_url)
    click.secho(f"{key}: {state}", fg="green")
