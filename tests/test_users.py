"""The dashboard's users and web sessions (scheduler.service.users), on SQLite and PostgreSQL.

Every test that takes ``database`` runs on both. Instants are passed as ``now``: nothing waits.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import select

from scheduler.errors import UsageError
from scheduler.service.users import (
    AuthenticationFailed,
    Permission,
    Role,
    User,
    add_user,
    disable_user,
    enable_user,
    list_users,
    locked_users,
    log_in,
    log_out,
    session_user,
    set_password,
    set_role,
)
from scheduler.store.database import Database, open_database
from scheduler.store.schema import AuditEntry, WebSession, WebUser

NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery"
OTHER = "another long password"
REFUSED = "wrong name or password"


def _audit(database: Database) -> list[tuple[str, str, str | None, dict[str, object]]]:
    with database.transaction() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(e.actor, e.action, e.subject, e.details) for e in entries]


def _stored(database: Database, name: str) -> WebUser:
    with database.transaction() as session:
        row = session.get(WebUser, name)
        assert row is not None
        return row


def _add(database: Database, name: str = "ines", role: Role = Role.AUTHOR) -> User:
    return add_user(database, name, role, PASSWORD, actor="admin", now=NOW)


# --- passwords -------------------------------------------------------------------------------


def test_passwords_are_salted_scrypt_hashes_never_the_password(database: Database) -> None:
    _add(database, "ines")
    _add(database, "omar")
    first, second = _stored(database, "ines"), _stored(database, "omar")
    assert first.password_hash.startswith("scrypt$")
    assert first.password_hash != second.password_hash  # same password, own salt
    for row in (first, second):
        assert PASSWORD not in row.password_hash
        assert PASSWORD.encode().hex() not in row.password_hash


def test_a_short_password_is_refused_without_repeating_it(database: Database) -> None:
    with pytest.raises(UsageError, match="password: expected at least 12 characters") as error:
        add_user(database, "ines", Role.AUTHOR, "short pass", actor="admin", now=NOW)
    assert "short pass" not in str(error.value)
    assert list_users(database) == []
    _add(database, "ines")
    with pytest.raises(UsageError, match="at least 12"):
        set_password(database, "ines", "tiny", actor="admin", now=NOW)


def test_a_password_is_the_same_however_its_accents_are_typed(database: Database) -> None:
    composed, decomposed = "caf\u00e9 au lait chaud", "cafe\u0301 au lait chaud"
    add_user(database, "ines", Role.AUTHOR, composed, actor="admin", now=NOW)
    assert log_in(database, "ines", decomposed, now=NOW)[0].name == "ines"


@pytest.mark.parametrize("name", ["", "a" * 65, "has space", "é-accent", "semi;colon", "a/b"])
def test_a_bad_name_is_refused_saying_what_is_expected(database: Database, name: str) -> None:
    with pytest.raises(UsageError, match=r"user name .*expected 1 to 64 letters"):
        add_user(database, name, Role.AUTHOR, PASSWORD, actor="admin", now=NOW)
    assert list_users(database) == []


def test_a_name_taken_in_another_case_is_refused(database: Database) -> None:
    _add(database, "Ines.M")
    with pytest.raises(UsageError, match=r"'Ines\.M' exists already"):
        _add(database, "Ines.M")
    with pytest.raises(UsageError, match=r"'ines\.m' is taken \('Ines\.M'\)"):
        _add(database, "ines.m")
    assert [user.name for user in list_users(database)] == ["Ines.M"]


def test_an_unknown_role_is_refused_naming_the_roles(database: Database) -> None:
    with pytest.raises(UsageError, match="role 'boss': expected one of author, approver, admin"):
        add_user(database, "ines", "boss", PASSWORD, actor="admin", now=NOW)  # type: ignore[arg-type]


# --- logging in --------------------------------------------------------------------------------


def test_logging_in_opens_a_session_and_is_audited(database: Database) -> None:
    added = _add(database, "ines", Role.APPROVER)
    user, token = log_in(database, "ines", PASSWORD, now=NOW)
    assert user == added == User("ines", Role.APPROVER, disabled=False)
    assert session_user(database, token, now=NOW) == user
    with database.transaction() as session:
        stored = session.scalars(select(WebSession.token_hash)).all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]  # never the token itself
    log_out(database, token, now=NOW)
    assert session_user(database, token, now=NOW) is None
    assert _audit(database) == [
        ("admin", "user add", "ines", {"role": "approver"}),
        ("ines", "log in", "ines", {}),
        ("ines", "log out", "ines", {}),
    ]


@pytest.mark.parametrize(
    ("name", "password", "reason"),
    [
        ("ines", "wrong password!!", "wrong password"),
        ("nobody", PASSWORD, "unknown name"),
        ("not a name; " + PASSWORD, PASSWORD, "unknown name"),
    ],
)
def test_every_refusal_says_the_same_and_is_audited_without_the_password(
    database: Database, name: str, password: str, reason: str
) -> None:
    _add(database, "ines")
    with pytest.raises(AuthenticationFailed, match=REFUSED) as refused:
        log_in(database, name, password, now=NOW)
    assert password not in str(refused.value)
    actor, action, _subject, details = _audit(database)[-1]
    assert (action, details) == ("log in refused", {"reason": reason})
    assert actor == (name if " " not in name else "(not a user name)")
    assert all(password not in str(entry) for entry in _audit(database))


def test_a_disabled_user_cannot_log_in_and_loses_its_sessions(database: Database) -> None:
    _add(database, "ines")
    _user, token = log_in(database, "ines", PASSWORD, now=NOW)
    disable_user(database, "ines", actor="admin", now=NOW)
    assert session_user(database, token, now=NOW) is None
    with pytest.raises(AuthenticationFailed, match=REFUSED):
        log_in(database, "ines", PASSWORD, now=NOW)
    assert list_users(database) == [User("ines", Role.AUTHOR, disabled=True)]
    enable_user(database, "ines", actor="admin", now=NOW)
    assert session_user(database, log_in(database, "ines", PASSWORD, now=NOW)[1], now=NOW)


def test_five_wrong_passwords_lock_the_name_for_15_minutes(database: Database) -> None:
    _add(database, "ines")
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            log_in(database, "ines", "wrong password!!", now=NOW)
    assert locked_users(database, now=NOW) == {"ines": NOW + dt.timedelta(minutes=15)}
    # Locked: even the right password is refused, with the same message as any failure.
    with pytest.raises(AuthenticationFailed, match=REFUSED):
        log_in(database, "ines", PASSWORD, now=NOW + dt.timedelta(minutes=14))
    reasons = [entry[3]["reason"] for entry in _audit(database)[1:]]
    assert reasons == [*["wrong password"] * 4, "wrong password, name locked", "locked"]
    later = NOW + dt.timedelta(minutes=15)
    assert locked_users(database, now=later) == {}
    user, _token = log_in(database, "ines", PASSWORD, now=later)
    assert user.name == "ines"
    assert _stored(database, "ines").failed_logins == 0


def test_a_right_password_resets_the_count_of_wrong_ones(database: Database) -> None:
    _add(database, "ines")
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            log_in(database, "ines", "wrong password!!", now=NOW)
    log_in(database, "ines", PASSWORD, now=NOW)
    with pytest.raises(AuthenticationFailed):
        log_in(database, "ines", "wrong password!!", now=NOW)
    assert locked_users(database, now=NOW) == {}


def test_a_new_password_unlocks_and_ends_every_session(database: Database) -> None:
    _add(database, "ines")
    tokens = [log_in(database, "ines", PASSWORD, now=NOW)[1] for _ in range(2)]
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            log_in(database, "ines", "wrong password!!", now=NOW)
    set_password(database, "ines", OTHER, actor="admin", now=NOW)
    assert [session_user(database, token, now=NOW) for token in tokens] == [None, None]
    with pytest.raises(AuthenticationFailed):
        log_in(database, "ines", PASSWORD, now=NOW)
    assert log_in(database, "ines", OTHER, now=NOW)[0].name == "ines"
    changes = [entry for entry in _audit(database) if entry[1] == "user password"]
    assert changes == [("admin", "user password", "ines", {"sessions_ended": 2})]


# --- sessions ---------------------------------------------------------------------------------


def test_a_session_ends_after_12_hours_even_when_used(database: Database) -> None:
    _add(database, "ines")
    _user, token = log_in(database, "ines", PASSWORD, now=NOW)
    moment = NOW
    while moment < NOW + dt.timedelta(hours=12):  # a request every hour keeps it from idling
        assert session_user(database, token, now=moment) is not None, moment
        moment += dt.timedelta(hours=1)
    assert session_user(database, token, now=NOW + dt.timedelta(hours=12)) is None


def test_a_session_ends_after_2_idle_hours(database: Database) -> None:
    _add(database, "ines")
    _user, token = log_in(database, "ines", PASSWORD, now=NOW)
    almost = NOW + dt.timedelta(hours=2) - dt.timedelta(seconds=1)
    assert session_user(database, token, now=almost) is not None
    assert session_user(database, token, now=almost + dt.timedelta(hours=2)) is None


def test_last_seen_is_written_at_most_once_a_minute(database: Database) -> None:
    _add(database, "ines")
    _user, token = log_in(database, "ines", PASSWORD, now=NOW)

    def last_seen() -> dt.datetime:
        with database.transaction() as session:
            return session.scalars(select(WebSession.last_seen_at)).one()

    session_user(database, token, now=NOW + dt.timedelta(seconds=59))
    assert last_seen() == NOW
    session_user(database, token, now=NOW + dt.timedelta(seconds=60))
    assert last_seen() == NOW + dt.timedelta(seconds=60)


def test_an_unknown_or_odd_token_is_no_session(database: Database) -> None:
    _add(database, "ines")
    log_in(database, "ines", PASSWORD, now=NOW)
    for token in ("", "x" * 5000, "\udcff\x00", "nonsense"):
        assert session_user(database, token, now=NOW) is None
    log_out(database, "nonsense", now=NOW)  # nothing to end, nothing recorded
    assert [entry[1] for entry in _audit(database)] == ["user add", "log in"]


def test_logging_in_purges_ended_sessions(database: Database) -> None:
    _add(database, "ines")
    log_in(database, "ines", PASSWORD, now=NOW)
    log_in(database, "ines", PASSWORD, now=NOW + dt.timedelta(hours=1))
    log_in(database, "ines", PASSWORD, now=NOW + dt.timedelta(hours=3, minutes=30))
    with database.transaction() as session:
        left = session.scalars(select(WebSession.created_at).order_by(WebSession.created_at))
        assert list(left) == [NOW + dt.timedelta(hours=3, minutes=30)]


def test_two_processes_share_sessions_through_the_database(database_url: str) -> None:
    first, second = open_database(database_url), open_database(database_url)
    try:
        _add(first, "ines")
        user, token = log_in(first, "ines", PASSWORD, now=NOW)
        assert session_user(second, token, now=NOW) == user
        log_out(second, token, now=NOW)
        assert session_user(first, token, now=NOW) is None
        _user, token = log_in(second, "ines", PASSWORD, now=NOW)
        disable_user(first, "ines", actor="admin", now=NOW)
        assert session_user(second, token, now=NOW) is None
        enable_user(second, "ines", actor="admin", now=NOW)
        for attempt in range(5):  # wrong passwords count wherever they are typed
            with pytest.raises(AuthenticationFailed):
                log_in((first, second)[attempt % 2], "ines", "wrong password!!", now=NOW)
        assert locked_users(first, now=NOW) == locked_users(second, now=NOW) != {}
    finally:
        first.close()
        second.close()


# --- roles ------------------------------------------------------------------------------------

MATRIX = {
    Role.AUTHOR: {Permission.VIEW, Permission.QUEUE, Permission.PAUSE},
    Role.APPROVER: {
        Permission.VIEW,
        Permission.QUEUE,
        Permission.PAUSE,
        Permission.APPROVE,
        Permission.RESUME,
    },
    Role.ADMIN: set(Permission),
}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_has_its_permissions_and_no_other(role: Role) -> None:
    user = User("ines", role, disabled=False)
    assert {p for p in Permission if user.may(p)} == MATRIX[role]
    assert not any(User("ines", role, disabled=True).may(p) for p in Permission)


def test_a_role_change_holds_for_live_sessions_and_is_audited(database: Database) -> None:
    _add(database, "root", Role.ADMIN)
    _add(database, "ines", Role.AUTHOR)
    _user, token = log_in(database, "ines", PASSWORD, now=NOW)
    assert set_role(database, "ines", Role.APPROVER, actor="root", now=NOW).role is Role.APPROVER
    user = session_user(database, token, now=NOW)
    assert user is not None
    assert user.may(Permission.APPROVE)
    assert _audit(database)[-1] == (
        "root",
        "user role",
        "ines",
        {"before": "author", "after": "approver"},
    )


def test_the_last_enabled_admin_stays(database: Database) -> None:
    _add(database, "root", Role.ADMIN)
    with pytest.raises(UsageError, match="would leave no enabled admin"):
        set_role(database, "root", Role.AUTHOR, actor="root", now=NOW)
    with pytest.raises(UsageError, match="would leave no enabled admin"):
        disable_user(database, "root", actor="root", now=NOW)
    _add(database, "second", Role.ADMIN)
    disable_user(database, "root", actor="second", now=NOW)
    assert [u.disabled for u in list_users(database)] == [True, False]


def test_changing_an_unknown_user_names_it(database: Database) -> None:
    for change in (
        lambda: set_role(database, "ghost", Role.ADMIN, actor="a", now=NOW),
        lambda: set_password(database, "ghost", PASSWORD, actor="a", now=NOW),
        lambda: disable_user(database, "ghost", actor="a", now=NOW),
        lambda: enable_user(database, "ghost", actor="a", now=NOW),
    ):
        with pytest.raises(UsageError, match="no such user: 'ghost'"):
            change()
    assert _audit(database) == []
