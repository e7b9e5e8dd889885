"""The platform's time beside ours, and the retracted state with who and why.

``deliveries.platform_sent_at``: when the platform accepted the post, on its clock (``sent_at``
stays ours). ``deliveries.retracted_by`` and ``retraction_reason``, beside ``retracted_at``:
deliveries that `campaign retract` deleted from their platform leave ``sent`` for the new state
``retracted``. Copies retracted by an older version (``retracted_at`` set, still ``sent``) are
moved there on upgrade, with who from the audit log and the reason "not recorded".

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 00:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

UNRECORDED_REASON = "not recorded (retracted before the reason was kept)"


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("platform_sent_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("retracted_by", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("retraction_reason", sa.Text(), nullable=True))
    op.get_bind().execute(
        sa.text(
            "UPDATE deliveries SET state = 'retracted', state_since = retracted_at,"
            " retraction_reason = :reason, retracted_by = COALESCE(("
            "  SELECT a.actor FROM audit_log a WHERE a.action = 'retract'"
            "  AND a.subject = deliveries.key ORDER BY a.at DESC, a.id DESC LIMIT 1), 'unknown')"
            " WHERE state = 'sent' AND retracted_at IS NOT NULL"
        ),
        {"reason": UNRECORDED_REASON},
    )


def downgrade() -> None:
    # An older version knows no retracted state: it reads a copy with retracted_at as deleted.
    op.get_bind().execute(sa.text("UPDATE deliveries SET state = 'sent' WHERE state = 'retracted'"))
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("retraction_reason")
        batch_op.drop_column("retracted_by")
        batch_op.drop_column("platform_sent_at")
