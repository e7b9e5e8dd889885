"""The dashboard's users and their web sessions: the SQL only.

The rules (roles, password hashing, lockout, session lifetimes) are scheduler.service.users';
these functions run inside the caller's transaction, so that a change and its audit entry
commit together.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from scheduler.store.schema import WebSession, WebUser


def add_user(
    session: Session, name: str, role: str, password_hash: str, now: dt.datetime
) -> WebUser:
    row = WebUser(
        name=name,
        role=role,
        password_hash=password_hash,
        disabled=False,
        failed_logins=0,
        locked_until=None,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def find_user(session: Session, name: str) -> WebUser | None:
    return session.get(WebUser, name)


def find_user_ignoring_case(session: Session, name: str) -> WebUser | None:
    """A user whose name is ``name`` in another case: two such names would read as one person
    in the audit log."""
    query = select(WebUser).where(func.lower(WebUser.name) == name.lower()).limit(1)
    return session.scalars(query).first()


def list_users(session: Session) -> list[WebUser]:
    return list(session.scalars(select(WebUser).order_by(WebUser.name)))


def update_user(session: Session, name: str, now: dt.datetime, **values: object) -> bool:
    """Set columns of one user; False when there is no such user."""
    changed = session.execute(
        update(WebUser)
        .where(WebUser.name == name)
        .values(updated_at=now, **values)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return bool(changed)


def count_failure(session: Session, name: str) -> int:
    """One more wrong password in a row: the new count. Counted in the UPDATE itself, so that
    attempts made at the same moment all count."""
    session.execute(
        update(WebUser)
        .where(WebUser.name == name)
        .values(failed_logins=WebUser.failed_logins + 1)
        .execution_options(synchronize_session=False)
    )
    return int(session.scalar(select(WebUser.failed_logins).where(WebUser.name == name)) or 0)


def set_lock(
    session: Session, name: str, *, failed_logins: int, locked_until: dt.datetime | None
) -> None:
    """The count of wrong passwords and the lock: not a change of the user (``updated_at``)."""
    session.execute(
        update(WebUser)
        .where(WebUser.name == name)
        .values(failed_logins=failed_logins, locked_until=locked_until)
        .execution_options(synchronize_session=False)
    )


def count_admins(session: Session, admin_role: str) -> int:
    """Enabled users of the admin role: the ones who can still manage the others."""
    query = select(func.count()).where(WebUser.role == admin_role, WebUser.disabled.is_(False))
    return int(session.scalar(query) or 0)


def create_session(
    session: Session, token_hash: str, user_name: str, now: dt.datetime, expires_at: dt.datetime
) -> None:
    session.add(
        WebSession(
            token_hash=token_hash,
            user_name=user_name,
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
        )
    )
    session.flush()


def find_session(session: Session, token_hash: str) -> tuple[WebSession, WebUser] | None:
    query = (
        select(WebSession, WebUser)
        .join(WebUser, WebUser.name == WebSession.user_name)
        .where(WebSession.token_hash == token_hash)
    )
    found = session.execute(query).first()
    return (found[0], found[1]) if found else None


def touch_session(session: Session, token_hash: str, now: dt.datetime) -> None:
    session.execute(
        update(WebSession)
        .where(WebSession.token_hash == token_hash, WebSession.last_seen_at < now)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )


def revoke_session(session: Session, token_hash: str) -> str | None:
    """End one session; the name of its user, or None when there was no such session."""
    found = session.scalars(
        delete(WebSession)
        .where(WebSession.token_hash == token_hash)
        .returning(WebSession.user_name)
    ).first()
    return found


def revoke_user_sessions(session: Session, user_name: str) -> int:
    """End every session of one user (a new password, a disabled user): how many."""
    ended = session.execute(
        delete(WebSession)
        .where(WebSession.user_name == user_name)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return int(ended)


def purge_sessions(session: Session, now: dt.datetime, idle_since: dt.datetime) -> int:
    """Delete the sessions past their lifetime, or idle since before ``idle_since``."""
    purged = session.execute(
        delete(WebSession)
        .where(or_(WebSession.expires_at <= now, WebSession.last_seen_at <= idle_since))
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return int(purged)
