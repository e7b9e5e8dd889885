"""A scratch copy of the store: every row of a database (SQLite or PostgreSQL) in a new SQLite file.

``campaign run --dry-run`` runs the daemon on such a copy, so that what a dry run "sends" or
marks missed never reaches the shared database. The source is opened for reading only (never
created, never migrated, writes refused by the driver) and read inside one snapshot, which sees
one consistent state and never blocks a daemon at work on it.

The dashboard's users and web sessions are not copied: a dry run of the daemon needs neither,
and the copy is left in a temporary folder, where password hashes have no business.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Table, event, select
from sqlalchemy.orm import Session

from scheduler.errors import StoreError
from scheduler.store.database import Database, database_url, head_revision, open_database
from scheduler.store.schema import Base

BATCH = 1000
"""Rows read and written at a time: a large store never sits in memory whole."""
NOT_COPIED = frozenset({"users", "web_sessions"})


def open_source(target: str | None) -> Database:
    """An existing store at this program's schema, for reading: one that is missing, empty or
    at another revision is refused (StoreError), never created or migrated."""
    url = database_url(target)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        raise StoreError(
            f"no database at {url.database}: nothing to copy (`campaign sync` creates it)"
        )
    source = open_database(target, check_schema=False)
    # A second guard beside the read-only snapshot: the driver itself refuses any write, so
    # nothing that runs on this engine can change the shared store.
    guard = _sqlite_query_only if source.dialect == "sqlite" else _postgres_read_only
    event.listen(source.engine, "connect", guard)
    try:
        _check_revision(source)
    except BaseException:
        source.close()
        raise
    return source


def copy_to_sqlite(source: Database, path: Path, *, batch: int = BATCH) -> Database:
    """Copy every row of ``source`` into a new SQLite file at ``path``, made by the migrations;
    returns the copy, open. A failed copy leaves no file behind."""
    if path.exists():
        raise StoreError(f"{path} already exists: a scratch copy goes to a new file")
    copy = open_database(str(path))
    try:
        with source.snapshot() as reading, copy.transaction() as writing:
            for table in Base.metadata.sorted_tables:  # parents before the rows that refer to them
                if table.name not in NOT_COPIED:
                    _copy_table(reading, writing, table, batch)
    except BaseException:
        copy.close()
        for leftover in (path, *_sidecars(path)):
            leftover.unlink(missing_ok=True)
        raise
    return copy


def _copy_table(reading: Session, writing: Session, table: Table, batch: int) -> None:
    query = select(table).order_by(*table.primary_key.columns)
    rows = reading.execute(query, execution_options={"yield_per": batch})
    for chunk in rows.partitions():
        writing.execute(table.insert(), [row._asdict() for row in chunk])


def _check_revision(source: Database) -> None:
    current, head = _revision(source), head_revision()
    if current is None:
        raise StoreError(f"{source.name} has no schema revision: it is not a campaign database")
    if current != head:
        raise StoreError(
            f"{source.name} is at schema revision {current}, not this program's {head}: "
            "run `campaign db upgrade` first (or use the matching program)"
        )


def _revision(source: Database) -> str | None:
    # Read in a snapshot: database.current_revision would begin a writing transaction, which on
    # SQLite takes the write lock (and is refused on this read-only engine).
    # The snapshot turns the driver's errors into StoreError (refused, no such database).
    from alembic.runtime.migration import MigrationContext  # slow to import: only for a copy

    with source.snapshot() as session:
        return MigrationContext.configure(session.connection()).get_current_revision()


def _sqlite_query_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only = ON")
    cursor.close()


def _postgres_read_only(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.read_only = True  # psycopg: every transaction begins READ ONLY


def _sidecars(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
