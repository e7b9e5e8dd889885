"""Every row of every table, read through the models' types: how tests compare whole stores.

Rows are read in one snapshot and ordered by primary key, so two dumps are equal exactly when
the stores hold the same data, whichever database each one is on.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from scheduler.store.database import Database
from scheduler.store.schema import Base

Dump = dict[str, list[tuple[Any, ...]]]


def dump(database: Database) -> Dump:
    with database.snapshot() as session:
        return {
            table.name: [
                tuple(row)
                for row in session.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }
