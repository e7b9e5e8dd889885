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
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from scheduler.errors import ConfigurationError, StoreError

DATABASE_ENV = "CAMPAIGN_DATABASE"
DEFAULT_DATABASE = "campaign.db"
SQLITE_BUSY_TIMEOUT_MS = 10_000
MIGRATIONS = "scheduler.store:migrations"


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
            return url.database or ":memory:"
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
            with writers, session.begin():
                yield session
                if not commit:
                    session.rollback()
        finally:
            session.close()

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """Reads that see one consistent state and never block the daemon's writes: a deferred
        transaction on SQLite (WAL readers take no lock), REPEATABLE READ on PostgreSQL."""
        with self.engine.connect() as connection:
            if self.dialect == "postgresql":
                connection.execution_options(isolation_level="REPEATABLE READ")
            connection.execution_options(campaign_read_only=True)
            with connection.begin(), Session(bind=connection) as session:
                yield session

    def close(self) -> None:
        self.engine.dispose()


def open_database(target: str | None = None, *, check_schema: bool = True) -> Database:
    """Connect; create a brand-new database at the current schema; refuse an outdated one."""
    url = database_url(target)
    engine = _engine(url)
    database = Database(engine, sessionmaker(engine, expire_on_commit=False))
    try:
        if check_schema:
            _ensure_current(database)
    except BaseException:
        database.close()
        raise
    return database


def _engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        if url.database:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide when transactions begin (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the daemon's writes
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
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
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = _scripts().get_current_head()
    assert head is not None, "the package ships its migrations"
    return head


def current_revision(database: Database) -> str | None:
    with _connect(database) as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(database: Database) -> tuple[str | None, str]:
    """Migrate to the newest schema; returns the revisions before and after."""
    before = current_revision(database)
    with _connect(database) as connection, connection.begin():
        command.upgrade(alembic_config(connection), "head")
    return before, head_revision()


def _ensure_current(database: Database) -> None:
    current, head = current_revision(database), head_revision()
    if current == head:
        return
    if current is None and not _has_tables(database):
        upgrade(database)
        return
    if current is None:
        raise StoreError(
            f"{database.name} holds tables but no schema revision: it is not a campaign database"
        )
    if not _known_revision(current):
        raise StoreError(
            f"{database.name} is at schema revision {current}, newer than this version of "
            "campaign-scheduler knows: upgrade the program"
        )
    raise StoreError(
        f"{database.name} is at schema revision {current}, older than this program's {head}: "
        "back it up, then run `campaign db upgrade`"
    )


def _known_revision(revision: str) -> bool:
    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False


def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    return ScriptDirectory.from_config(config)


def _has_tables(database: Database) -> bool:
    with _connect(database) as connection:
        return bool(inspect(connection).get_table_names())


@contextmanager
def _connect(database: Database) -> Iterator[Connection]:
    try:
        with database.engine.connect() as connection:
            yield connection
    except OperationalError as exc:
        raise StoreError(f"cannot open the database {database.name}: {_reason(exc)}") from exc


def _reason(exc: SQLAlchemyError) -> str:
    # The driver's own first line says what went wrong (refused, no such database, locked)
    # without the SQL or parameters, which may carry data we do not want in a message.
    original = getattr(exc, "orig", None) or exc
    return str(original).strip().splitlines()[0] if str(original).strip() else type(exc).__name__
