"""Alembic environment: runs on the connection that scheduler.store.database hands it."""

from __future__ import annotations

from alembic import context

from scheduler.store.schema import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite alters tables by copying them; batch mode does that for us
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
