"""Indexes for the daemon's two frequent questions (store/claims.py):

- the claim's "is a call of this account under way": deliveries by state, then account;
- the next wakeup, asked after every dispatch round: deliveries by state then ``not_before``
  (the first retry to come), accounts by ``next_post_at`` and by ``rate_limited_until``; each is
  then the first row of an index, not a scan of every waiting delivery.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 13:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

INDEXES = {
    "deliveries": (["state", "account_id"], ["state", "not_before"]),
    "accounts": (["next_post_at"], ["rate_limited_until"]),
}


def upgrade() -> None:
    for table, indexes in INDEXES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for columns in indexes:
                name = batch_op.f(f"ix_{table}_{'_'.join(columns)}")
                batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    for table, indexes in INDEXES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for columns in indexes:
                batch_op.drop_index(batch_op.f(f"ix_{table}_{'_'.join(columns)}"))
