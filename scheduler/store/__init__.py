"""The shared store: SQLAlchemy tables, migrations, the delivery state machine, sync and approvals.

SQLite (a file, WAL mode) by default; PostgreSQL when several daemons share the work. The same
code runs on both. See docs/store.md.

Import what you use from its module (``scheduler.store.database``, ``.sync``, ...): this package
imports nothing itself, so that a command that only reads (`campaign status`) does not load the
campaign planner, which sync needs and which costs half a second.
"""
