"""The shared store: SQLAlchemy tables, migrations, the delivery state machine, sync and approvals.

SQLite (a file, WAL mode) by default; PostgreSQL when several daemons share the work. The same
code runs on both. See docs/store.md.
"""

from typing import TYPE_CHECKING, Any

from scheduler.store.database import Database, open_database, upgrade
from scheduler.store.states import DeliveryState

if TYPE_CHECKING:
    from scheduler.store.sync import ChangeKind, SyncChange, SyncReport, sync_campaign

_FROM_SYNC = frozenset({"ChangeKind", "SyncChange", "SyncReport", "sync_campaign"})

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


def __getattr__(name: str) -> Any:
    """The sync's names, imported when first asked for: the sync loads the planner and its
    length counters (twitter-text), which the daemon and the reports never need."""
    if name in _FROM_SYNC:
        from scheduler.store import sync

        return getattr(sync, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
