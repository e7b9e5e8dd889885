"""The shared store: SQLAlchemy tables, migrations, the delivery state machine, sync and approvals.

SQLite (a file, WAL mode) by default; PostgreSQL when several daemons share the work. The same
code runs on both. See docs/store.md.
"""

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
