"""The shared store: SQLAlchemy tables, migrations, the delivery state machine, sync and approvals.

SQLite (a file, WAL mode) by default; PostgreSQL when several daemons share the work. The same
code runs on both. See docs/store.md.

The names below are imported when first asked for, not with the package: a command that only
reads (`campaign status`) then loads neither sync nor the campaign planner it needs, which cost
half a second.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scheduler.store.database import Database, open_database, upgrade
    from scheduler.store.states import DeliveryState
    from scheduler.store.sync import ChangeKind, SyncChange, SyncReport, sync_campaign

__all__ = [
    "ChangeKind",
    "Database",
    "DeliveryState",
    "SyncChange",
    "SyncReport",
    "open_database",
    "sync_campaign",
    "upgrade",
]

_HOMES = {
    "ChangeKind": "sync",
    "Database": "database",
    "DeliveryState": "states",
    "SyncChange": "sync",
    "SyncReport": "sync",
    "open_database": "database",
    "sync_campaign": "sync",
    "upgrade": "database",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
