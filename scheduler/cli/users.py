"""The dashboard's users: add, list, set a role, disable, enable, set a password.

A password is never an option's value (it would stay in the shell's history and in the process
list): it is asked twice at a hidden prompt, or read as one line from standard input with
``--password-stdin``, for scripts.
"""

from __future__ import annotations

import sys

import click

from scheduler.cli.common import ask, main, opened_database
from scheduler.cli.options import actor_option, database_option
from scheduler.errors import UsageError

# Each command imports the service when it runs: it loads the database code, which
# `campaign --help` does without.

ROLES = ("author", "approver", "admin")
"""scheduler.service.users.Role's values (a test holds them equal), named here so that the
choice is shown in --help without loading the service."""

role_choice = click.Choice(ROLES)
password_stdin_option = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password as one line from standard input (for scripts) instead of asking.",
)


@main.group()
def users() -> None:
    """The web dashboard's users: who may log in, with which role."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=role_choice, required=True, help="author, approver or admin.")
@password_stdin_option
@database_option
@actor_option
def users_add(name: str, role: str, password_stdin: bool, database: str | None, actor: str) -> None:
    """Add a user of the dashboard, asking for their password.

    An author queues, edits and pauses; an approver also approves and resumes; an admin also
    manages users.
    """
    from scheduler.service import users as service

    service.check_name(name)  # before asking for a password
    password = _new_password(password_stdin)
    with opened_database(database) as opened:
        added = service.add_user(opened, name, service.Role(role), password, actor=actor)
    click.secho(f"added user {added.name} ({added.role})", fg="green")


@users.command("list")
@database_option
def users_list(database: str | None) -> None:
    """List the users: name, role, disabled or locked."""
    from scheduler.service import users as service

    with opened_database(database) as opened:
        everyone = service.list_users(opened)
        locked = service.locked_users(opened)
    if not everyone:
        click.echo("no users yet (`campaign users add NAME --role admin` adds the first)")
        return
    width = max(len(user.name) for user in everyone)
    for user in everyone:
        until = locked.get(user.name)
        state = "disabled" if user.disabled else "active"
        if until is not None:
            state += f", locked until {until:%Y-%m-%d %H:%M} UTC (wrong passwords)"
        click.echo(f"{user.name:<{width}}  {user.role:<8}  {state}")


@users.command("set-role")
@click.argument("name")
@click.argument("role", type=role_choice, metavar="ROLE")
@database_option
@actor_option
def users_set_role(name: str, role: str, database: str | None, actor: str) -> None:
    """Give a user another role; it holds from their next request."""
    from scheduler.service import users as service

    with opened_database(database) as opened:
        changed = service.set_role(opened, name, service.Role(role), actor=actor)
    click.secho(f"{changed.name} is now {changed.role}", fg="green")


@users.command("disable")
@click.argument("name")
@database_option
@actor_option
def users_disable(name: str, database: str | None, actor: str) -> None:
    """Stop a user from logging in, and end their sessions now."""
    from scheduler.service import users as service

    with opened_database(database) as opened:
        service.disable_user(opened, name, actor=actor)
    click.secho(f"{name} is disabled; their sessions have ended", fg="yellow")


@users.command("enable")
@click.argument("name")
@database_option
@actor_option
def users_enable(name: str, database: str | None, actor: str) -> None:
    """Let a disabled user log in again (and lift a lock after wrong passwords)."""
    from scheduler.service import users as service

    with opened_database(database) as opened:
        service.enable_user(opened, name, actor=actor)
    click.secho(f"{name} is enabled", fg="green")


@users.command("password")
@click.argument("name")
@password_stdin_option
@database_option
@actor_option
def users_password(name: str, password_stdin: bool, database: str | None, actor: str) -> None:
    """Set a user's new password; their sessions end and a lock is lifted."""
    from scheduler.service import users as service

    password = _new_password(password_stdin)
    with opened_database(database) as opened:
        service.set_password(opened, name, password, actor=actor)
    click.secho(f"{name}: password changed; their sessions have ended", fg="green")


def _new_password(from_stdin: bool) -> str:
    """A new password, checked before it is asked again; never printed."""
    from scheduler.service.users import check_password

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UsageError("--password-stdin: standard input held no password")
        check_password(password)
        return password
    password = ask("New password", hide=True)
    check_password(password)
    if ask("The same password again", hide=True) != password:
        raise UsageError("the two passwords differ; nothing was changed")
    return password
