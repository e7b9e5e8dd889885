"""Commands about the platform accounts themselves: auth (onboarding) and check (preflight)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from adapters.capabilities import CAPABILITIES, Platform
from adapters.secrets import FILE_VARIABLE, valid_name
from scheduler.cli.common import EXIT_PROBLEMS, CampaignPath, ask, main
from scheduler.cli.options import config_option
from scheduler.defaults import PREFLIGHT_WORKERS
from scheduler.errors import UsageError

if TYPE_CHECKING:
    from rich.progress import Progress

    from scheduler.service.onboarding import Authorized
    from scheduler.service.preflight import AccountRef, AccountResult

# The service modules load the platform adapters' machinery and the views load the store: each
# command imports what it calls when it runs, so that `campaign --help` stays quick.

DEFAULT_FILE = Path("campaigns.yaml")

secrets_file_option = click.option(
    "--secrets-file",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar=FILE_VARIABLE,
    help=f"The secrets file (env {FILE_VARIABLE}; default: the settings' secrets_file, else "
    "~/.config/campaign/secrets.toml).",
)


# --- campaign auth ------------------------------------------------------------------------------


@main.command()
@click.argument("platform", type=click.Choice([str(p) for p in Platform]))
@click.argument("file", type=CampaignPath, required=False)
@click.option("--account", "embassy_id", help="The embassy whose account it is (its id in FILE).")
@click.option("--credentials", help="The credentials name to store under, without a FILE.")
@click.option("--handle", help="With --credentials: the account's handle (needed for Bluesky).")
@click.option("--instance", help="With --credentials: the Mastodon instance URL.")
@click.option(
    "--consumer-from",
    "app_from",
    metavar="NAME",
    help="X: reuse the app's consumer key and secret stored under this credentials name.",
)
@click.option(
    "--print-env",
    is_flag=True,
    help="Print export lines (they hold the secrets) instead of storing in the secrets file.",
)
@secrets_file_option
@config_option
def auth(
    platform: str,
    file: Path | None,
    embassy_id: str | None,
    credentials: str | None,
    handle: str | None,
    instance: str | None,
    app_from: str | None,
    print_env: bool,
    secrets_file: Path | None,
    config: Path | None,
) -> None:
    """Get an account's credentials interactively and store them in the secrets file.

    X: the PIN flow; Mastodon: an app on the instance and an authorization code; Bluesky: an
    app password. The account comes from FILE (default campaigns.yaml) by its embassy id, or
    from --credentials. The credentials are checked against the handle before being stored.
    """
    from scheduler.service import accounts
    from scheduler.settings import load_settings

    ref = _auth_target(Platform(platform), file, embassy_id, credentials, handle, instance)
    done = accounts.authorize_account(
        ref,
        load_settings(config),
        ask=ask,
        tell=lambda text: click.echo(text, err=True),
        secrets_file=secrets_file,
        store=not print_env,
        app_from=app_from,
    )
    _report_authorized(done)


def _auth_target(
    platform: Platform,
    file: Path | None,
    embassy_id: str | None,
    credentials: str | None,
    handle: str | None,
    instance: str | None,
) -> AccountRef:
    from scheduler.service import accounts
    from scheduler.service.preflight import AccountRef

    if credentials is None:
        if embassy_id is None:
            raise UsageError(
                "give --account EMBASSY_ID (the account in FILE) or --credentials NAME"
            )
        if handle or instance:
            raise UsageError("--handle and --instance go with --credentials; FILE gives them")
        return accounts.account_in_file(file or DEFAULT_FILE, platform, embassy_id)
    if file is not None:
        raise UsageError("--credentials: the account is not read from FILE; give one or the other")
    if not valid_name(credentials):
        raise UsageError(
            f"--credentials {credentials!r}: use lower-case letters, digits, '.', '-', '_'"
        )
    if platform is Platform.BLUESKY and not handle:
        raise UsageError("--handle is needed for Bluesky: it is the login")
    if platform is not Platform.MASTODON and instance:
        raise UsageError("--instance is for Mastodon accounts")
    return AccountRef(platform, credentials, handle, instance, embassy_id)


def _report_authorized(done: Authorized) -> None:
    check = done.check
    name = f" ({check.display_name})" if check.display_name else ""
    who = (
        f"{CAPABILITIES[check.platform].label} account {check.handle}{name}, id {check.account_id}"
    )
    if done.stored_in is None:
        click.echo("\n".join(done.exports))
        click.echo(f"Verified: {who}.", err=True)
        click.secho(
            "The lines above hold the secrets: keep them out of logs.", fg="yellow", err=True
        )
        return
    fields = ", ".join(done.fields)
    click.echo(f"Stored {fields} of {done.ref.credentials!r} in {done.stored_in} (mode 0600).")
    click.echo(f"Verified: {who}.")
    if done.shadowed_by:
        click.secho(
            f"warning: {', '.join(done.shadowed_by)} set in this environment take precedence "
            "over the secrets file; unset them to use what was stored",
            fg="yellow",
            err=True,
        )


# --- campaign check -----------------------------------------------------------------------------


@main.command()
@click.argument("file", type=CampaignPath)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=PREFLIGHT_WORKERS,
    show_default=True,
    help="How many accounts to verify at once.",
)
@secrets_file_option
@config_option
def check(
    file: Path, as_json: bool, workers: int, secrets_file: Path | None, config: Path | None
) -> None:
    """Preflight before launch: verify every account of FILE with its platform.

    Checks that each account's credentials work and belong to its handle, that the live limits
    (length, images, image size, alt text) accept every post planned for it, and that every
    image can be read. Exits 1 on any problem.
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from scheduler.service import accounts
    from scheduler.settings import load_settings
    from scheduler.views.reporting.preflight import render_preflight

    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        report, _ = accounts.check_file(
            file,
            load_settings(config),
            secrets_file=secrets_file,
            workers=workers,
            progress=_ProgressBar(bar),
        )
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(render_preflight(report), nl=False)
    if not report.ok:
        sys.exit(EXIT_PROBLEMS)


class _ProgressBar:
    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: Any = None

    def start(self, total: int) -> None:
        self.task = self.progress.add_task("verifying accounts", total=total)

    def done(self, result: AccountResult) -> None:
        self.progress.advance(self.task)
