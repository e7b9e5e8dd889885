"""Where the data lives: a SQLite file by default, PostgreSQL when several daemons share work.

The same code runs on both. The location comes from ``--database`` or ``CAMPAIGN_DATABASE``: a
path (a SQLite file) or a URL (``postgresql+psycopg://user@host/db``). A brand-new database is
created at the current schema; an existing one that is older than the code is never migrated
behind the operator's back: commands refuse it and name ``campaign db upgrade``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session as Session  # re-exported: the type callers' hints name
from sqlalchemy.orm import sessionmaker

from scheduler.defaults import DATABASE_ENV

if TYPE_CHECKING:  # alembic is loaded only to migrate, or when a schema is not this program's
    from alembic.config import Config
    from alembic.script import ScriptDirectory
from scheduler.errors import (
    ConfigurationError,
    DatabaseUnavailable,
    NoSuchDatabase,
    SchemaMismatch,
    StoreError,
)

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

# Alembic takes a third of a second to import, more than `campaign status` has for its whole
# work: it is imported only to migrate, or when the quick check below cannot decide.

DEFAULT_DATABASE = "campaign.db"
SQLITE_BUSY_TIMEOUT_MS = 10_000
MIGRATIONS = "scheduler.store:migrations"
MIGRATIONS_LOGGER = "alembic"
SCHEMA_REVISION = "0007"
"""The newest migration's revision (tests/test_store_database.py checks it is alembic's head):
a database stamped with it is opened without loading alembic, a second of a daemon's start."""
"""The logger of the migration tool, which says at INFO what it checks on every connection."""


def database_url(target: str | None) -> URL:
    """The URL for ``--database`` / ``CAMPAIGN_DATABASE`` / the default SQLite file."""
    text = target or os.environ.get(DATABASE_ENV) or DEFAULT_DATABASE
    if "://" not in text:
        return URL.create("sqlite+pysqlite", database=str(Path(text).expanduser().resolve()))
    try:
        url = make_url(text)
    except ArgumentError as exc:
        raise ConfigurationError(f"{DATABASE_ENV} / --database: not a database URL") from exc
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigurationError(
            f"--database: {url.get_backend_name()} is not supported; "
            "expected a SQLite file path or a postgresql+psycopg:// URL"
        )
    return url


@dataclass
class Database:
    engine: Engine
    sessions: sessionmaker[Session]
    _writers: threading.RLock = field(default_factory=threading.RLock)

    @property
    def name(self) -> str:
        """The location, fit to print for comms officers: a SQLite file's plain path, a
        server's ``postgresql://user@host/db`` without the driver; never with a password."""
        url = self.engine.url
        if url.get_backend_name() == "sqlite":
            return sqlite_path(url) or ":memory:"
        plain = URL.create(
            url.get_backend_name(),
            username=url.username,
            host=url.host,
            port=url.port,
            database=url.database,
        )
        return plain.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self, *, commit: bool = True) -> Iterator[Session]:
        """One unit of work: committed when the block ends (rolled back instead with
        ``commit=False``, for dry runs), rolled back on any error."""
        # SQLite has one writer at a time. Threads of this process queue on a lock, which
        # wakes the next one at once; SQLite's own busy handler would make them sleep and poll
        # (tens of milliseconds each, which adds up to minutes of lateness in a burst).
        writers = self._writers if self.dialect == "sqlite" else nullcontext()
        session = self.sessions()
        try:
            with self.errors(), writers, session.begin():
                yield session
                if not commit:
                    session.rollback()
        finally:
            session.close()

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """Reads that see one consistent state and never block the daemon's writes: a deferred
        transaction on SQLite (WAL readers take no lock), REPEATABLE READ on PostgreSQL."""
        with self.errors(), self.engine.connect() as connection:
            if self.dialect == "postgresql":
                connection.execution_options(isolation_level="REPEATABLE READ")
            connection.execution_options(campaign_read_only=True)
            with connection.begin(), Session(bind=connection) as session:
                yield session

    @contextmanager
    def errors(self) -> Iterator[None]:
        """The driver's errors as our own (see :func:`store_error`): one line naming the
        database, never the SQL or the values it carried."""
        try:
            yield
        except SQLAlchemyError as exc:
            raise store_error(exc, self.name) from None

    def close(self) -> None:
        self.engine.dispose()


def open_database(
    target: str | None = None, *, check_schema: bool = True, create: bool = True
) -> Database:
    """Connect; create a brand-new database at the current schema; refuse an outdated one.

    With ``create=False`` (every command but ``sync`` and ``db upgrade``) a database that does
    not exist, or holds nothing at all, is refused (NoSuchDatabase): no file, no folder, no
    tables are made for a mistyped ``--database``.
    """
    url = database_url(target)
    if not create:
        _refuse_missing(url)
    engine = _engine(url, create=create)
    database = Database(engine, sessionmaker(engine, expire_on_commit=False))
    try:
        if check_schema:
            _ensure_current(database, create=create)
    except BaseException:
        database.close()
        raise
    return database


IN_MEMORY = "sqlite+pysqlite:///:memory:"
"""A database that lives as long as the process: a dry run against a missing file uses it."""


def _refuse_missing(url: URL) -> None:
    path = sqlite_path(url)
    if path is not None and not Path(path).is_file():  # a PostgreSQL server says it itself
        raise NoSuchDatabase(
            f"no such database: {path} (check --database or {DATABASE_ENV}; "
            "`campaign sync FILE` creates one)"
        )


def sqlite_path(url: URL) -> str | None:
    """The file of a SQLite URL, as a plain path (also for a ``file:`` URI); None for
    PostgreSQL and for an in-memory database."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    if url.database.startswith("file:"):
        return unquote(url.database.removeprefix("file:"))
    return url.database


def _engine(url: URL, *, create: bool = True) -> Engine:
    if url.get_backend_name() == "sqlite":
        path = sqlite_path(url)
        if path and create:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # `?timeout=SECONDS` on a sqlite:// URL: how long to wait for another program's write.
        timeout = _seconds(url.query.get("timeout"), SQLITE_BUSY_TIMEOUT_MS / 1000)
        url = url.difference_update_query(["timeout"])
        connect_args: dict[str, Any] = {"timeout": timeout}
        if path and not create and not url.query:
            # Opened as a URI with mode=rw, SQLite itself never creates the file: one removed
            # between the check and the connection stays missing.
            url = url.set(database=f"file:{quote(path)}", query={"mode": "rw", "uri": "true"})
        engine = create_engine(url, connect_args=connect_args)
        event.listen(engine, "connect", partial(_sqlite_on_connect, int(timeout * 1000)))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _seconds(text: Any, default: float) -> float:
    try:
        value = float(text) if isinstance(text, str) else default
    except ValueError:
        raise ConfigurationError(f"--database: timeout={text} is not a number of seconds") from None
    if not 0 <= value <= 3600:
        raise ConfigurationError(f"--database: timeout={text}: expected 0 to 3600 seconds")
    return value


def _sqlite_on_connect(busy_timeout_ms: int, dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide when transactions begin (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the daemon's writes
    cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable in WAL mode up to the last checkpoint
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # IMMEDIATE takes the write lock up front: a transaction that reads and then writes cannot
    # fail half-way with "database is locked" because another process wrote in between.
    # Snapshots only read, and in WAL mode a deferred BEGIN lets them run beside any writer.
    read_only = connection.get_execution_options().get("campaign_read_only", False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def alembic_config(connection: Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration's revision: :data:`SCHEMA_REVISION`, which a test holds equal to
    alembic's head, so that no command loads alembic only to learn it."""
    return SCHEMA_REVISION


def current_revision(database: Database) -> str | None:
    """The revision the database is stamped with, or None (no stamp, or no such table)."""
    stamped = _stamped(database)
    if stamped is not None:
        return stamped
    from alembic.runtime.migration import MigrationContext

    with _connect(database) as connection:
        connection.execution_options(campaign_read_only=True)
        return MigrationContext.configure(connection).get_current_revision()


def _stamped(database: Database) -> str | None:
    """The revision a database is stamped with, read without alembic; None when it has no
    stamp or not exactly one (then alembic's own reading says what it is)."""
    with _connect(database) as connection:
        # Only reads: on SQLite, no write lock (a daemon writing meanwhile need not wait).
        connection.execution_options(campaign_read_only=True)
        if not inspect(connection).has_table("alembic_version"):
            return None
        stamps = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    return str(stamps[0][0]) if len(stamps) == 1 else None


def upgrade(database: Database) -> tuple[str | None, str]:
    """Migrate to the newest schema; returns the revisions before and after."""
    from alembic import command

    before = current_revision(database)
    with _connect(database) as connection, connection.begin():
        command.upgrade(alembic_config(connection), "head")
    return before, head_revision()


def _ensure_current(database: Database, *, create: bool = True) -> None:
    if _stamped(database) == SCHEMA_REVISION:
        return  # the usual case, without loading alembic
    current, head = current_revision(database), head_revision()
    if current == head:
        return
    if current is None and not _has_tables(database):
        if not create:
            raise NoSuchDatabase(
                f"no such database: {database.name} is empty, not a campaign database yet "
                "(`campaign sync FILE` or `campaign db upgrade` sets it up)"
            )
        upgrade(database)
        return
    if current is None:
        raise SchemaMismatch(
            f"{database.name} holds tables but no schema revision: it is not a campaign database"
        )
    if not _known_revision(current):
        raise SchemaMismatch(
            f"{database.name} is at schema revision {current}, newer than this version of "
            "campaign-scheduler knows: upgrade the program"
        )
    raise SchemaMismatch(
        f"{database.name} is at schema revision {current}, older than this program's {head}: "
        "back it up, then run `campaign db upgrade`"
    )


def _known_revision(revision: str) -> bool:
    from alembic.util import CommandError

    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False


def _scripts() -> ScriptDirectory:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    return ScriptDirectory.from_config(config)


def _has_tables(database: Database) -> bool:
    with _connect(database) as connection:
        return bool(inspect(connection).get_table_names())


@contextmanager
def _connect(database: Database) -> Iterator[Connection]:
    with database.errors(), database.engine.connect() as connection:
        yield connection


# SQLSTATE classes and codes of PostgreSQL (psycopg's ``sqlstate``), and SQLite's messages.
_UNAVAILABLE_STATES = {
    "08": "the connection to the server failed",
    "57P01": "the server is shutting down",
    "57P02": "the server is shutting down",
    "57P03": "the server is not accepting connections yet",
    "53100": "the disk is full",
    "53200": "the server is out of memory",
    "53300": "the server has too many connections",
    "25006": "it is read-only (a standby, or a read-only transaction)",
    "55P03": "it is locked by another program; try again",
    "40P01": "two programs waited on each other (deadlock); try again",
    "40001": "another program changed the same rows; try again",
}
_SCHEMA_STATES = {"42P01": "a table is missing", "42703": "a column is missing"}
_SQLITE_UNAVAILABLE = {
    "database is locked": "it is locked by another program writing to it; try again when it "
    "has finished",
    "readonly database": "it is read-only: check the file's and its folder's permissions",
    "disk is full": "the disk is full",
    "disk i/o error": "a disk I/O error occurred",
    "unable to open database file": "the file cannot be opened (missing, or no permission)",
    "not a database": "the file is not a SQLite database",
    "malformed": "the file is damaged (malformed)",
}
_SQLITE_SCHEMA = ("no such table", "no such column", "has no column named")


def store_error(exc: SQLAlchemyError, name: str) -> StoreError:
    """One line naming the database and what went wrong, for a person: never the SQL statement
    or its parameters (the campaign's texts, ids and tokens), never a password (``name`` is the
    database as :attr:`Database.name` renders it)."""
    original = getattr(exc, "orig", None)
    state = str(getattr(original, "sqlstate", None) or "")
    text = _first_line(original if original is not None else exc)
    lowered = text.lower()
    if state == "3D000" or ("does not exist" in lowered and "database" in lowered):
        return NoSuchDatabase(f"no such database: {name} (the server says it does not exist)")
    for key, why in _UNAVAILABLE_STATES.items():
        if state.startswith(key):
            return DatabaseUnavailable(f"database {name}: {why} ({text})")
    for key, why in _SQLITE_UNAVAILABLE.items():
        if key in lowered:
            return DatabaseUnavailable(f"database {name}: {why}")
    if state in _SCHEMA_STATES or any(key in lowered for key in _SQLITE_SCHEMA):
        why = _SCHEMA_STATES.get(state, text)
        return SchemaMismatch(
            f"database {name} does not have the schema this program expects ({why}): "
            "`campaign db revision` says which it has"
        )
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return DatabaseUnavailable(f"database {name}: the connection was lost ({text})")
    if "connection" in lowered and any(w in lowered for w in ("refused", "failed", "closed")):
        return DatabaseUnavailable(f"database {name}: cannot connect ({text})")
    return StoreError(f"database {name}: {type(original or exc).__name__}: {text}")


def _first_line(error: BaseException) -> str:
    # The driver's own first line says what went wrong (refused, locked, read-only) without the
    # SQL or parameters; SQLAlchemy's own text adds both, so only the driver's is used.
    lines = str(error).strip().splitlines()
    return lines[0].strip() if lines else type(error).__name__
