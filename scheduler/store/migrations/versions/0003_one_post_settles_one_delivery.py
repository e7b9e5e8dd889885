"""A post on a platform settles one delivery only: (account, remote id) is unique.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 00:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from scheduler.errors import StoreError

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    _refuse_shared_posts()
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("uq_deliveries_account_id_remote_id"),
            ["account_id", "remote_id"],
            unique=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("uq_deliveries_account_id_remote_id"))


def _refuse_shared_posts() -> None:
    """Name the deliveries that would break the index, rather than fail on it with SQL."""
    shared = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT d.key, d.remote_id FROM deliveries d JOIN ("
                " SELECT account_id, remote_id FROM deliveries WHERE remote_id IS NOT NULL"
                " GROUP BY account_id, remote_id HAVING COUNT(*) > 1) s"
                " ON s.account_id = d.account_id AND s.remote_id = d.remote_id ORDER BY d.key"
            )
        )
        .all()
    )
    if shared:
        listed = "; ".join(f"{key} ({remote})" for key, remote in shared)
        raise StoreError(
            f"these deliveries hold the same post of one account: {listed}. One post settles "
            "one delivery: settle all but one of them (campaign settle), then upgrade again"
        )
