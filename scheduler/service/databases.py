"""The database a command works on: opened (or created) for it, migrated, its schema revision,
a scratch copy for a dry run of the daemon, and who is acting when ``--as`` is not given.

The command line reaches the store only through here and the other service modules.
"""

from __future__ import annotations

import logging
import tempfile
from contextlib import closing
from pathlib import Path

from scheduler.errors import NoSuchDatabase
from scheduler.store.audit import default_actor
from scheduler.store.database import (
    IN_MEMORY,
    Database,
    current_revision,
    head_revision,
    open_database,
    upgrade,
)
from scheduler.store.scratch import copy_to_sqlite, open_source

__all__ = [
    "Database",
    "default_actor",
    "migrate",
    "open_existing",
    "open_for_sync",
    "reopen",
    "revisions",
    "scratch_copy",
]

log = logging.getLogger("campaign.daemon")


def open_existing(target: str | None) -> Database:
    """The database of every command but ``sync`` and ``db upgrade``: one that does not exist
    is refused (NoSuchDatabase), never created by a mistyped ``--database``."""
    return open_database(target, create=False)


def reopen(database: Database) -> Database:
    """Another connection pool on the same store: the dashboard served beside the daemon uses
    its own, so that its requests never wait for (nor hold) a connection the daemon needs."""
    return open_database(database.engine.url.render_as_string(hide_password=False), create=False)


def open_for_sync(target: str | None, *, dry_run: bool) -> tuple[Database, str | None]:
    """The database that ``sync`` writes to, created if needed; and, for a dry run of a first
    sync, an empty one in memory with the reason it is shown against it."""
    try:
        return open_database(target, create=not dry_run), None
    except NoSuchDatabase as exc:
        if not dry_run:
            raise
        return open_database(IN_MEMORY), str(exc)


def migrate(target: str | None) -> tuple[str, str | None, str]:
    """``db upgrade``: the database's name, and its schema revision before and after
    migrating it to this program's (creating it if needed)."""
    with closing(open_database(target, check_schema=False)) as opened:
        before, after = upgrade(opened)
    return opened.name, before, after


def revisions(target: str | None) -> tuple[str, str | None, str]:
    """``db revision``: the database's name, its schema revision, and this program's."""
    with closing(open_database(target, check_schema=False, create=False)) as opened:
        current = current_revision(opened)
    return opened.name, current, head_revision()


def scratch_copy(target: str | None) -> Database:
    """A dry run's own store: a copy of the shared one in a new folder, left there afterwards
    for inspection, so that what the dry run "sends" or marks missed stays out of the real one."""
    with closing(open_source(target)) as source:
        path = Path(tempfile.mkdtemp(prefix="campaign-dry-run-")) / "dry-run.db"
        try:
            copy = copy_to_sqlite(source, path)
        except BaseException:
            path.parent.rmdir()  # the copy removed its own file
            raise
    log.info("dry run: working on a scratch copy at %s; %s is not touched", path, source.name)
    return copy
