"""The options that several commands share: the settings file, the database, the campaign and
who is acting.

They name their environment variables from scheduler.defaults, so that declaring them loads
neither the settings' models nor the database code: `campaign --help` stays quick.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from scheduler.defaults import ACTOR_ENV, CONFIG_ENV, DATABASE_ENV

F = TypeVar("F", bound=Callable[..., Any])


def config_option(command: F) -> F:
    """``--config FILE`` (or CAMPAIGN_CONFIG): the operator's settings, see scheduler.settings."""
    return click.option(
        "--config",
        "config",
        type=click.Path(path_type=Path, dir_okay=False, exists=True),
        envvar=CONFIG_ENV,
        help=f"Settings file (TOML): platforms, daemon, alerts (env {CONFIG_ENV}).",
    )(command)


def database_option(command: F) -> F:
    return click.option(
        "--database",
        "database",
        envvar=DATABASE_ENV,
        metavar="PATH|URL",
        callback=lambda _ctx, _param, value: value or _configured_database(),
        help=f"SQLite file or postgresql+psycopg:// URL (env {DATABASE_ENV}; else `database` "
        f"in the {CONFIG_ENV} settings file; else campaign.db here).",
    )(command)


def _configured_database() -> str | None:
    """The settings file's database, so that an operator's commands reach the daemon's."""
    from scheduler.settings import load_settings

    return load_settings().database if os.environ.get(CONFIG_ENV) else None


def campaign_option(help_text: str) -> Callable[[F], F]:
    return click.option("--campaign", "campaign_id", metavar="ID", help=help_text)


one_campaign = campaign_option("Which campaign (needed only when the database holds several).")


def actor_option(command: F) -> F:
    return click.option(
        "--as",
        "actor",
        metavar="NAME",
        envvar=ACTOR_ENV,
        callback=lambda _ctx, _param, value: value or _default_actor(),
        help=f"Who is doing this, for the audit log and the approval rules "
        f"(env {ACTOR_ENV}; default: your login name).",
    )(command)


def _default_actor() -> str:
    from scheduler.service.databases import default_actor  # the store loads only when needed

    return default_actor()
