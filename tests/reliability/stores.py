"""Stores that hostile and generated files are synced into, each seeded with a campaign first.

A refused file must leave a store exactly as it was, and a store holding a campaign makes that
mean something: a sync that cancelled its deliveries before failing would show. After a valid
sync, ``reset`` brings the seeded state back, so that every case starts from the same store.
"""

from __future__ import annotations

import datetime as dt
import shutil
from abc import ABC, abstractmethod
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from store_dump import Dump, dump

from scheduler.service import sync
from scheduler.store.database import open_database
from scheduler.store.schema import Base, Delivery
from scheduler.store.states import DeliveryState

from .harness import ACTOR

SEEDED_AT = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
"""Before the seed campaign's window: every seeded delivery is simply scheduled."""


class SeededStore(ABC):
    target: str
    """What ``--database`` is given."""
    seeded: Dump
    """Every row of the seeded store."""

    @abstractmethod
    def reset(self) -> None:
        """Back to the seeded state."""

    def dump(self) -> Dump:
        database = open_database(self.target, check_schema=False)
        try:
            return dump(database)
        finally:
            database.close()

    def live_deliveries(self, campaign_id: str) -> int:
        """Deliveries of the campaign that the daemon would still act on (not cancelled)."""
        database = open_database(self.target, check_schema=False)
        try:
            with database.snapshot() as session:
                query = select(func.count()).where(
                    Delivery.campaign_id == campaign_id,
                    Delivery.state != DeliveryState.CANCELLED,
                )
                return int(session.scalar(query) or 0)
        finally:
            database.close()


def _seed(target: str, seed_file: Path) -> None:
    database = open_database(target)
    try:
        sync.sync_file(seed_file, database, actor=ACTOR, now=SEEDED_AT)
    finally:
        database.close()


class SqliteStore(SeededStore):
    """A seeded template file, copied over the working file to reset: a few milliseconds."""

    def __init__(self, folder: Path, seed_file: Path) -> None:
        self.template = folder / "seeded.db"
        self.target = str(folder / "work.db")
        _seed(str(self.template), seed_file)
        self.reset()
        self.seeded = self.dump()

    def open_to_everyone(self) -> None:
        """For a command run as nobody: SQLite writes beside the file even to read it (WAL)."""
        Path(self.target).parent.chmod(0o777)
        for suffix in ("", "-wal", "-shm"):
            if Path(self.target + suffix).exists():
                Path(self.target + suffix).chmod(0o666)

    def reset(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            copy = Path(self.target + suffix)
            copy.unlink(missing_ok=True)
            original = Path(str(self.template) + suffix)
            if original.exists():
                shutil.copyfile(original, copy)


class PostgresStore(SeededStore):
    """Every table emptied, then the seed synced again."""

    def __init__(self, url: str, seed_file: Path) -> None:
        self.target = url
        self.seed_file = seed_file
        engine = create_engine(url)
        try:
            with engine.begin() as connection:  # a schema of our own, whatever ran before
                connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        finally:
            engine.dispose()
        _seed(url, seed_file)
        self.seeded = self.dump()

    def reset(self) -> None:
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        database = open_database(self.target)
        try:
            with database.transaction() as session:
                session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        finally:
            database.close()
        _seed(self.target, self.seed_file)
