"""`campaign users`: the dashboard's users from the command line, on SQLite and PostgreSQL.

Passwords come from standard input (``--password-stdin``) or a prompt asked twice; neither is
ever printed back.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from scheduler.cli import EXIT_USAGE, main
from scheduler.cli.users import ROLES
from scheduler.service.users import AuthenticationFailed, Role, User, list_users, log_in
from scheduler.store.database import Database
from scheduler.store.schema import AuditEntry

PASSWORD = "correct horse battery"


def run(database_url: str, *args: str, stdin: str | None = None) -> Result:
    env = {"CAMPAIGN_USER": "root", "CAMPAIGN_DATABASE": database_url}
    return CliRunner().invoke(main, list(args), env=env, input=stdin, prog_name="campaign")


def _add(database_url: str, name: str, role: str = "author") -> Result:
    return run(database_url, "users", "add", name, "--role", role, "--password-stdin",
               stdin=PASSWORD + "\n")  # fmt: skip


def test_the_cli_roles_are_the_services() -> None:
    assert tuple(Role) == ROLES


def test_add_from_stdin_then_log_in(database: Database, database_url: str) -> None:
    result = _add(database_url, "ines", "approver")
    assert result.exit_code == 0, result.output
    assert result.output == "added user ines (approver)\n"
    assert PASSWORD not in result.output
    user, _token = log_in(database, "ines", PASSWORD)
    assert user == User("ines", Role.APPROVER, disabled=False)
    with database.transaction() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "user add")).one()
    assert (entry.actor, entry.subject) == ("root", "ines")


def test_add_asks_twice_and_never_echoes(database: Database, database_url: str) -> None:
    typed = f"{PASSWORD}\n{PASSWORD}\n"
    result = run(database_url, "users", "add", "ines", "--role", "author", stdin=typed)
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert "New password:" in result.output
    assert "The same password again:" in result.output
    assert log_in(database, "ines", PASSWORD)[0].name == "ines"


def test_two_different_passwords_change_nothing(database: Database, database_url: str) -> None:
    typed = f"{PASSWORD}\n{PASSWORD}!\n"
    result = run(database_url, "users", "add", "ines", "--role", "author", stdin=typed)
    assert result.exit_code == EXIT_USAGE
    assert "error: the two passwords differ; nothing was changed" in result.output
    assert PASSWORD not in result.output
    assert "Traceback" not in result.output
    assert list_users(database) == []


def test_a_short_password_is_refused_before_it_is_asked_again(
    database: Database, database_url: str
) -> None:
    result = run(database_url, "users", "add", "ines", "--role", "author", stdin="tooshort\n")
    assert result.exit_code == EXIT_USAGE
    assert "password: expected at least 12 characters, got 8" in result.output
    assert "The same password again" not in result.output
    assert "tooshort" not in result.output
    assert list_users(database) == []


def test_an_empty_stdin_is_refused(database: Database, database_url: str) -> None:
    args = ("users", "add", "ines", "--role", "author", "--password-stdin")
    result = run(database_url, *args, stdin="")
    assert result.exit_code == EXIT_USAGE
    assert "--password-stdin: standard input held no password" in result.output


def test_a_bad_name_is_refused_before_the_password(database_url: str, database: Database) -> None:
    result = run(database_url, "users", "add", "in es", "--role", "author")
    assert result.exit_code == EXIT_USAGE
    assert "user name 'in es': expected 1 to 64 letters" in result.output
    assert "password" not in result.output.lower()


def test_a_bad_role_is_refused_naming_the_roles(database_url: str, database: Database) -> None:
    result = run(database_url, "users", "add", "ines", "--role", "boss", "--password-stdin",
                 stdin=PASSWORD + "\n")  # fmt: skip
    assert result.exit_code == EXIT_USAGE
    assert "'boss' is not one of 'author', 'approver', 'admin'" in result.output
    assert list_users(database) == []


def test_list_set_role_disable_enable(database: Database, database_url: str) -> None:
    assert run(database_url, "users", "list").output.startswith("no users yet")
    _add(database_url, "root", "admin")
    _add(database_url, "ines")
    changed = run(database_url, "users", "set-role", "ines", "approver")
    assert changed.output == "ines is now approver\n"
    disabled = run(database_url, "users", "disable", "ines")
    assert disabled.exit_code == 0, disabled.output
    assert run(database_url, "users", "list").output == (
        "ines  approver  disabled\nroot  admin     active\n"
    )
    with pytest.raises(AuthenticationFailed):
        log_in(database, "ines", PASSWORD)
    assert run(database_url, "users", "enable", "ines").exit_code == 0
    assert log_in(database, "ines", PASSWORD)[0] == User("ines", Role.APPROVER, disabled=False)


def test_list_shows_a_locked_name(database: Database, database_url: str) -> None:
    _add(database_url, "ines")
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            log_in(database, "ines", "not the password")
    listed = run(database_url, "users", "list").output
    assert listed.startswith("ines  author    active, locked until ")
    assert listed.endswith(" UTC (wrong passwords)\n")


def test_password_sets_a_new_one(database: Database, database_url: str) -> None:
    _add(database_url, "ines")
    new = "a brand new passphrase"
    result = run(database_url, "users", "password", "ines", "--password-stdin", stdin=new + "\n")
    assert result.exit_code == 0, result.output
    assert new not in result.output
    with pytest.raises(AuthenticationFailed):
        log_in(database, "ines", PASSWORD)
    assert log_in(database, "ines", new)[0].name == "ines"


def test_an_unknown_user_is_named_without_a_traceback(
    database: Database, database_url: str
) -> None:
    for args in (("set-role", "ghost", "admin"), ("disable", "ghost"), ("enable", "ghost")):
        result = run(database_url, "users", *args)
        assert result.exit_code == EXIT_USAGE
        assert result.output == "error: no such user: 'ghost'; nothing was changed\n"


def test_the_last_admin_cannot_be_disabled(database: Database, database_url: str) -> None:
    _add(database_url, "root", "admin")
    result = run(database_url, "users", "disable", "root")
    assert result.exit_code == EXIT_USAGE
    assert "would leave no enabled admin" in result.output
