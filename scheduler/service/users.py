"""The dashboard's users: roles and what each may do, passwords, logging in, web sessions.

Passwords are hashed with scrypt and a random salt per user, kept as one self-describing string
(``scrypt$n$r$p$salt$hash``) and compared in constant time; a name that does not exist costs
the same hash, so the time taken does not tell whether a name exists.

Every failure to log in gets one message, :data:`LOGIN_REFUSED`, whatever was wrong: unknown
name, wrong password, disabled user or a locked name. Saying "locked" would confirm that the
name exists; the message instead says, to everyone, that repeated failures lock a name for a
while. The audit log ("log in refused") keeps the reason, for the admins.

Sessions are rows in the store (only the SHA-256 of each token), so every `campaign web`
process sees the same ones. They end after :data:`SESSION_LIFETIME`, or :data:`SESSION_IDLE`
without a request; ``last_seen_at`` is written at most once per :data:`TOUCH_EVERY`, not on
every request.

Lifetimes and lockouts run on the wall clock, not the rehearsal clock of
scheduler.service.clock: a rehearsal that moves campaign time must not end or extend
sessions. Every change is written to the audit log in the transaction that makes it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from scheduler.errors import UsageError
from scheduler.store import users as rows
from scheduler.store.audit import record
from scheduler.store.database import Database, Session
from scheduler.store.schema import WebUser

__all__ = [
    "AuthenticationFailed",
    "Permission",
    "Role",
    "User",
    "add_user",
    "check_name",
    "check_password",
    "disable_user",
    "enable_user",
    "list_users",
    "locked_users",
    "log_in",
    "log_out",
    "parse_role",
    "session_user",
    "set_password",
    "set_role",
]


class Permission(StrEnum):
    VIEW = "view"
    QUEUE = "queue"
    """Add, edit and cancel queued posts."""
    APPROVE = "approve"
    PAUSE = "pause"
    RESUME = "resume"
    MANAGE_USERS = "manage_users"


class Role(StrEnum):
    AUTHOR = "author"
    APPROVER = "approver"
    ADMIN = "admin"


_AUTHOR = frozenset({Permission.VIEW, Permission.QUEUE, Permission.PAUSE})
_APPROVER = _AUTHOR | {Permission.APPROVE, Permission.RESUME}
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.AUTHOR: _AUTHOR,
    Role.APPROVER: _APPROVER,
    Role.ADMIN: frozenset(Permission),
}
"""Anyone may pull the brake; lifting it, and approving, take an approver."""


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    disabled: bool

    def may(self, permission: Permission) -> bool:
        return not self.disabled and permission in PERMISSIONS[self.role]


MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)
LOGIN_REFUSED = (
    f"wrong name or password (after {MAX_FAILURES} wrong passwords in a row, a name is refused "
    f"for {LOCKOUT.seconds // 60} minutes)"
)


class AuthenticationFailed(UsageError):
    """Logging in failed; the message never says why (see the module's docstring)."""

    def __init__(self) -> None:
        super().__init__(LOGIN_REFUSED)


MIN_PASSWORD = 12
MAX_PASSWORD = 1024
SESSION_LIFETIME = dt.timedelta(hours=12)
SESSION_IDLE = dt.timedelta(hours=2)
TOUCH_EVERY = dt.timedelta(minutes=1)

# scrypt's cost: 32 MiB and about 0.1 s a hash here. Each hash names its own parameters, so
# raising them later leaves existing passwords valid.
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
_SCRYPT_MAXMEM = 2**26
_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


# --- managing users ---------------------------------------------------------------------------


def add_user(
    database: Database,
    name: str,
    role: Role,
    password: str,
    *,
    actor: str,
    now: dt.datetime | None = None,
) -> User:
    check_name(name)
    role = parse_role(role)
    hashed = _hash_password(password)
    moment = now or _now()
    with database.transaction() as session:
        same = rows.find_user_ignoring_case(session, name)
        if same is not None:
            taken = "exists already" if same.name == name else f"is taken ({same.name!r})"
            raise UsageError(f"user name {name!r} {taken}; nothing was changed")
        row = rows.add_user(session, name, role, hashed, moment)
        record(session, moment, actor, "user add", None, name, role=str(role))
        return _user(row)


def set_password(
    database: Database, name: str, password: str, *, actor: str, now: dt.datetime | None = None
) -> None:
    """A new password; the user's sessions end, and a locked name is unlocked."""
    hashed = _hash_password(password)
    moment = now or _now()
    with database.transaction() as session:
        _existing(session, name)
        rows.update_user(
            session, name, moment, password_hash=hashed, failed_logins=0, locked_until=None
        )
        ended = rows.revoke_user_sessions(session, name)
        record(session, moment, actor, "user password", None, name, sessions_ended=ended)


def set_role(
    database: Database, name: str, role: Role, *, actor: str, now: dt.datetime | None = None
) -> User:
    role = parse_role(role)
    moment = now or _now()
    with database.transaction() as session:
        before = _existing(session, name)
        if before.role == Role.ADMIN and not before.disabled and role != Role.ADMIN:
            _keep_an_admin(session, before, "taking the admin role from")
        rows.update_user(session, name, moment, role=str(role))
        record(
            session,
            moment,
            actor,
            "user role",
            None,
            name,
            before=str(before.role),
            after=str(role),
        )
        return User(name, role, before.disabled)


def disable_user(
    database: Database, name: str, *, actor: str, now: dt.datetime | None = None
) -> None:
    """The user can no longer log in; their sessions end now."""
    moment = now or _now()
    with database.transaction() as session:
        before = _existing(session, name)
        if before.role == Role.ADMIN and not before.disabled:
            _keep_an_admin(session, before, "disabling")
        rows.update_user(session, name, moment, disabled=True)
        ended = rows.revoke_user_sessions(session, name)
        record(session, moment, actor, "user disable", None, name, sessions_ended=ended)


def enable_user(
    database: Database, name: str, *, actor: str, now: dt.datetime | None = None
) -> None:
    """Undo :func:`disable_user`, and lift a lock."""
    moment = now or _now()
    with database.transaction() as session:
        _existing(session, name)
        rows.update_user(session, name, moment, disabled=False, failed_logins=0, locked_until=None)
        record(session, moment, actor, "user enable", None, name)


def list_users(database: Database) -> list[User]:
    with database.snapshot() as session:
        return [_user(row) for row in rows.list_users(session)]


def locked_users(database: Database, *, now: dt.datetime | None = None) -> dict[str, dt.datetime]:
    """The names locked by wrong passwords now, and until when."""
    moment = now or _now()
    with database.snapshot() as session:
        return {
            row.name: row.locked_until
            for row in rows.list_users(session)
            if row.locked_until is not None and row.locked_until > moment
        }


def check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise UsageError(
            f"user name {name[:80]!r}: expected 1 to 64 letters (a-z, A-Z), digits, '.', '_' or '-'"
        )


def check_password(password: str) -> None:
    """Long enough to resist guessing; the message never repeats the password."""
    length = len(_normalized(password))
    if length < MIN_PASSWORD:
        raise UsageError(
            f"password: expected at least {MIN_PASSWORD} characters, got {length}; "
            "a few words in a row are easy to remember"
        )
    if length > MAX_PASSWORD:
        raise UsageError(f"password: expected at most {MAX_PASSWORD} characters")


def _existing(session: Session, name: str) -> User:
    row = rows.find_user(session, name)
    if row is None:
        raise UsageError(f"no such user: {name[:80]!r}; nothing was changed")
    return _user(row)


def _keep_an_admin(session: Session, user: User, doing: str) -> None:
    """The dashboard must keep someone able to manage users."""
    if rows.count_admins(session, Role.ADMIN) <= 1:
        raise UsageError(
            f"{doing} {user.name} would leave no enabled admin; make another user admin first"
        )


def parse_role(role: Role | str) -> Role:
    """``role`` as a Role; UsageError naming the roles otherwise."""
    try:
        return Role(role)
    except ValueError:
        expected = ", ".join(Role)
        raise UsageError(f"role {str(role)[:40]!r}: expected one of {expected}") from None


def _user(row: WebUser) -> User:
    return User(row.name, Role(row.role), row.disabled)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- passwords --------------------------------------------------------------------------------


def _hash_password(password: str) -> str:
    check_password(password)
    return _hash(password, secrets.token_bytes(16), SCRYPT_N, SCRYPT_R, SCRYPT_P)


def _hash(password: str, salt: bytes, n: int, r: int, p: int) -> str:
    digest = _scrypt(password, salt, n, r, p)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    secret = _normalized(password).encode("utf-8", "surrogatepass")
    return hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=32)


def _normalized(password: str) -> str:
    # One spelling per character: an "é" typed on a phone (one code point) or a laptop (e and
    # an accent) is the same password.
    return unicodedata.normalize("NFKC", password)


def _password_matches(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
    except ValueError:  # a damaged hash matches nothing
        return False
    return hmac.compare_digest(computed, bytes.fromhex(digest))


def _decoy_hash() -> str:
    """What an unknown name's password is checked against: the same work as a real hash, and
    random bytes for a digest, which no password matches."""
    salt, digest = secrets.token_bytes(16), secrets.token_bytes(32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


# --- logging in and sessions ------------------------------------------------------------------


def log_in(
    database: Database, name: str, password: str, *, now: dt.datetime | None = None
) -> tuple[User, str]:
    """A user and a new session token, for the right name and password; otherwise
    AuthenticationFailed, recorded in the audit log with its reason."""
    moment = now or _now()
    stored = _stored_hash(database, name)
    # Hashed outside any transaction: on SQLite a write transaction holds the one write lock,
    # which the daemon must not wait on for a tenth of a second per attempt.
    matches = _password_matches(password, stored or _decoy_hash())
    token = secrets.token_urlsafe(32)
    with database.transaction() as session:
        user, refused = _attempt(session, name, stored, matches, moment)
        if user is not None:
            rows.purge_sessions(session, moment, moment - SESSION_IDLE)
            rows.create_session(
                session, _token_hash(token), user.name, moment, moment + SESSION_LIFETIME
            )
            record(session, moment, user.name, "log in", None, user.name)
        else:
            typed = _typed_name(name)
            record(session, moment, typed, "log in refused", None, typed, reason=refused)
    if user is None:  # raised after the commit, so that the refusal and the count are kept
        raise AuthenticationFailed
    return user, token


def _stored_hash(database: Database, name: str) -> str | None:
    if not _NAME.fullmatch(name):
        return None
    with database.snapshot() as session:
        row = rows.find_user(session, name)
        return row.password_hash if row else None


def _attempt(
    session: Session, name: str, stored: str | None, matches: bool, now: dt.datetime
) -> tuple[User | None, str]:
    """The user, or None and why not, with the count of wrong passwords kept."""
    row = rows.find_user(session, name) if stored is not None else None
    if row is None or row.password_hash != stored:  # gone, or a new password meanwhile
        return None, "unknown name"
    if row.disabled:
        return None, "disabled"
    if row.locked_until is not None and row.locked_until > now:
        return None, "locked"
    if not matches:
        if rows.count_failure(session, row.name) < MAX_FAILURES:
            return None, "wrong password"
        rows.set_lock(session, row.name, failed_logins=0, locked_until=now + LOCKOUT)
        return None, "wrong password, name locked"
    if row.failed_logins or row.locked_until is not None:
        rows.set_lock(session, row.name, failed_logins=0, locked_until=None)
    return _user(row), ""


def _typed_name(name: str) -> str:
    """The name as typed, for the audit log, if it could be a name: text that is not one (a
    password typed in the wrong field, say) is not recorded."""
    return name if _NAME.fullmatch(name) else "(not a user name)"


def session_user(database: Database, token: str, *, now: dt.datetime | None = None) -> User | None:
    """The user of a live session; None if the token is unknown, the session ended (lifetime,
    idle time, logged out) or the user was disabled."""
    moment = now or _now()
    hashed = _token_hash(token)
    with database.snapshot() as session:
        found = rows.find_session(session, hashed)
        if found is None:
            return None
        web_session, row = found
        if not _live(web_session.expires_at, web_session.last_seen_at, moment) or row.disabled:
            return None
        user, last_seen = _user(row), web_session.last_seen_at
    if moment - last_seen >= TOUCH_EVERY:  # not a write for every request
        with database.transaction() as session:
            rows.touch_session(session, hashed, moment)
    return user


def _live(expires_at: dt.datetime, last_seen_at: dt.datetime, now: dt.datetime) -> bool:
    return now < expires_at and now < last_seen_at + SESSION_IDLE


def log_out(database: Database, token: str, *, now: dt.datetime | None = None) -> None:
    """End the session (nothing happens for an unknown token)."""
    moment = now or _now()
    with database.transaction() as session:
        name = rows.revoke_session(session, _token_hash(token))
        if name is not None:
            record(session, moment, name, "log out", None, name)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
