"""Commands for comms officers: queue, edit, cancel and approve posts, from the command line."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from adapters.capabilities import Platform
from scheduler.campaign.model import Replies, Visibility
from scheduler.cli.common import main, opened_database, print_problems
from scheduler.cli.options import F, actor_option, database_option, one_campaign
from scheduler.errors import CampaignFileError, UsageError
from scheduler.problems import Problem

if TYPE_CHECKING:
    from scheduler.service.queue import PostChange

# The service loads the database code: each command imports it when it runs, so that
# `campaign --help` does without.


# Where a field of the queued post came from on the command line, for error messages.
OPTION_OF_FIELD = {
    "id": "--id",
    "text": "--text",
    "images": "--image/--alt",
    "content_warning": "--content-warning",
    "at": "--at",
    "date": "--at",
    "time": "--at",
    "replies": "--replies",
    "visibility": "--visibility",
    "targets": "--embassy/--region/--tag/--platform",
}


def post_options(command: F) -> F:
    """The options that write a post; shared by `queue add` and `queue edit`."""
    options = [
        click.option("--text", "texts", multiple=True, metavar="LANG=TEXT",
                     help="The text in one language, e.g. --text 'en=Orange the world' "
                     "(repeatable: one per language)."),
        click.option("--image", "images", multiple=True, metavar="FILE",
                     help="An image, relative to the current folder (repeatable, up to 4)."),
        click.option("--alt", "alts", multiple=True, metavar="[N:]LANG=TEXT",
                     help="Alt text of image N (default 1), e.g. --alt '2:fr=Une carte' "
                     "(repeatable)."),
        click.option("--content-warning", "warnings", multiple=True, metavar="LANG=TEXT",
                     help="A content warning, in one language (repeatable)."),
        click.option("--embassy", "embassies", multiple=True, metavar="ID",
                     help="Only this embassy (repeatable; default: all)."),
        click.option("--region", "regions", multiple=True, metavar="ID",
                     help="Only embassies of this region (repeatable)."),
        click.option("--tag", "tags", multiple=True, metavar="TAG",
                     help="Only embassies with this tag (repeatable)."),
        click.option("--platform", "platforms", multiple=True,
                     type=click.Choice([str(p) for p in Platform]),
                     help="Only this platform (repeatable; default: all)."),
        click.option("--at", "at", metavar="WHEN",
                     help="'2026-12-01 10:00' is that local time at each embassy; with an "
                     "offset ('...+01:00' or 'Z') one instant everywhere. Without --at: "
                     "each embassy's next free posting slot."),
        click.option("--replies", type=click.Choice([str(r) for r in Replies]),
                     help="Who may reply (X and Bluesky)."),
        click.option("--visibility", type=click.Choice([str(v) for v in Visibility]),
                     help="Mastodon visibility."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


@main.group()
def queue() -> None:
    """Queue posts outside the campaign file, list, edit and cancel them."""


@queue.command("add")
@click.option("--id", "post_id", metavar="ID", help="The post's id (default: q-DATE-XXXX).")
@post_options
@one_campaign
@database_option
@actor_option
def queue_add(
    post_id: str | None, campaign_id: str | None, database: str | None, actor: str, **fields: Any
) -> None:
    """Queue a post, checked exactly like the campaign file.

    Without --at it goes out in each embassy's next free posting slot, in local time.
    """
    from scheduler.service import queue as queue_service

    if not fields["texts"]:
        raise UsageError("give the text with --text LANG=TEXT (at least one language)")
    definition = {"id": post_id or _new_id(), **_post_fields(**fields)}
    with opened_database(database) as opened, _options_in_problems():
        change = queue_service.queue_add(
            opened, definition, actor=actor, folder=Path.cwd(), campaign_id=campaign_id
        )
    _print_change("queued", change)


@queue.command("edit")
@click.argument("post_id", metavar="POST")
@post_options
@one_campaign
@database_option
@actor_option
def queue_edit(
    post_id: str, campaign_id: str | None, database: str | None, actor: str, **fields: Any
) -> None:
    """Change a queued post. What is given replaces what was there; approval is needed again."""
    from scheduler.service import queue as queue_service

    changes = _post_fields(**fields)
    if not changes:
        raise UsageError("nothing to change: give --text, --at, --image, ...")
    with opened_database(database) as opened, _options_in_problems():
        change = queue_service.queue_edit(
            opened, post_id, changes, actor=actor, folder=Path.cwd(), campaign_id=campaign_id
        )
    _print_change("edited", change)


@queue.command("cancel")
@click.argument("post_id", metavar="POST")
@click.option("--reason", required=True, help="Why, for the audit log and the report.")
@one_campaign
@database_option
@actor_option
def queue_cancel(
    post_id: str, reason: str, campaign_id: str | None, database: str | None, actor: str
) -> None:
    """Cancel a post (queued or from the file): none of its copies will go out from now on."""
    from scheduler.service import queue as queue_service

    with opened_database(database) as opened:
        change = queue_service.cancel_post(
            opened, post_id, actor=actor, reason=reason, campaign_id=campaign_id
        )
    if change.already_cancelled is not None:
        click.secho(
            f"{change.campaign_id}: post {post_id} was already cancelled "
            f"({change.already_cancelled.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC); nothing changed",
            fg="yellow",
        )
        return
    _print_change("cancelled", change)


@queue.command("list")
@click.option("--all", "everything", is_flag=True, help="Also list the campaign file's posts.")
@click.option("--json", "as_json", is_flag=True, help="Print the posts as JSON.")
@one_campaign
@database_option
def queue_list(
    everything: bool, as_json: bool, campaign_id: str | None, database: str | None
) -> None:
    """List queued posts: version, author, the states of their deliveries, the next one due."""
    from scheduler.service import queue as queue_service

    with opened_database(database) as opened:
        rows = queue_service.list_posts(opened, campaign_id, queued_only=not everything)
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("no queued posts" + ("" if everything else " (--all lists the file's too)"))
    for row in rows:
        states = ", ".join(f"{n} {state}" for state, n in sorted(row["states"].items()))
        cancelled = " CANCELLED" if row["cancelled"] else ""
        click.echo(
            f"{row['id']}  v{row['version']} by {row['author']}{cancelled}  [{states}]  "
            f"next: {row['next_due'] or '-'}  {row['text']}"
        )


@main.command()
@click.argument("post_id", metavar="POST")
@one_campaign
@database_option
@actor_option
def approve(post_id: str, campaign_id: str | None, database: str | None, actor: str) -> None:
    """Approve the current version of a post, so that it may go out.

    Under the campaign's two-person rule, the approver cannot be its author. Give your name
    with --as.
    """
    from scheduler.service import queue as queue_service

    with opened_database(database) as opened:
        campaign, version, released, past = queue_service.approve_post(
            opened, post_id, approver=actor, campaign_id=campaign_id
        )
    click.secho(
        f"{campaign}: post {post_id} version {version} approved by {actor}; "
        f"{released} deliver{'y' if released == 1 else 'ies'} scheduled",
        fg="green",
    )
    if past:
        click.secho(f"  {past.describe()}", fg="yellow")


@contextmanager
def _options_in_problems() -> Iterator[None]:
    """Problems of a queued post, named by the options that wrote its fields."""
    try:
        yield
    except CampaignFileError as exc:
        raise CampaignFileError(exc.file, [_as_option(p) for p in exc.problems]) from None


def _as_option(problem: Problem) -> Problem:
    path = problem.path
    if path[:2] != ("posts", 0):
        return problem
    if len(path) == 2:
        return replace(problem, path=("post",))
    option = OPTION_OF_FIELD.get(str(path[2]), str(path[2]))
    return replace(problem, path=(option, *path[3:]))


def _new_id() -> str:
    from scheduler.service.drafts import new_post_id

    return new_post_id(dt.date.today())


def _post_fields(
    texts: tuple[str, ...],
    images: tuple[str, ...],
    alts: tuple[str, ...],
    warnings: tuple[str, ...],
    embassies: tuple[str, ...],
    regions: tuple[str, ...],
    tags: tuple[str, ...],
    platforms: tuple[str, ...],
    at: str | None,
    replies: str | None,
    visibility: str | None,
) -> dict[str, Any]:
    """The options given, as fields of a post in the campaign file's shape (the service's
    builder, shared with the dashboard's form)."""
    from scheduler.service.drafts import Draft, by_language, images_with_alts, post_fields

    draft = Draft(
        texts=by_language("--text", texts),
        images=images_with_alts(images, alts) if images else (),  # --alt alone: ignored
        warnings=by_language("--content-warning", warnings),
        embassies=embassies,
        regions=regions,
        tags=tags,
        platforms=platforms,
        at=at,
        replies=replies,
        visibility=visibility,
    )
    return post_fields(draft)


def _print_change(verb: str, change: PostChange) -> None:
    # Every notice is shown: a queued post has few, and no option lists them later.
    print_problems(change.problems, verbose=True)
    states = Counter(c.state for c in change.report.changes)
    summary = ", ".join(f"{n} {state}" for state, n in sorted(states.items())) or "no deliveries"
    click.secho(
        f"{change.campaign_id}: {verb} post {change.post_id} (version {change.version}): {summary}",
        fg="green",
    )
    if change.report.past_due:
        click.secho(f"  {change.report.past_due.describe()}", fg="yellow")
    for embassy, local in sorted((change.placement or {}).items()):
        click.echo(f"  {embassy}: next free slot {local.replace('T', ' ')} local time")
    for item in change.report.changes:
        if item.state not in ("scheduled", "awaiting_approval", "cancelled"):
            click.secho(f"  {item.key}: {item.kind} [{item.state}]", fg="yellow")
