"""Engagement after posting: each sent delivery's counts over time (``engagement_snapshots``),
when each was last asked for (``engagement_checks``), and each collection with its notes per
account (``engagement_runs``). The dispatcher's tables are not touched.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 18:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "engagement_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=True),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engagement_runs")),
    )
    with op.batch_alter_table("engagement_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_engagement_runs_started_at"), ["started_at"])
    op.create_table(
        "engagement_snapshots",
        sa.Column("id", _ID, nullable=False),
        sa.Column("delivery_id", _ID, nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_engagement_snapshots_delivery_id_deliveries"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["engagement_runs.id"],
            name=op.f("fk_engagement_snapshots_run_id_engagement_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engagement_snapshots")),
    )
    with op.batch_alter_table("engagement_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_engagement_snapshots_delivery_id_metric_fetched_at"),
            ["delivery_id", "metric", "fetched_at"],
        )
        batch_op.create_index(batch_op.f("ix_engagement_snapshots_run_id"), ["run_id"])
    op.create_table(
        "engagement_checks",
        sa.Column("delivery_id", _ID, nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("gone", sa.Boolean(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_engagement_checks_delivery_id_deliveries"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["engagement_runs.id"],
            name=op.f("fk_engagement_checks_run_id_engagement_runs"),
        ),
        sa.PrimaryKeyConstraint("delivery_id", name=op.f("pk_engagement_checks")),
    )
    with op.batch_alter_table("engagement_checks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_engagement_checks_checked_at"), ["checked_at"])


def downgrade() -> None:
    with op.batch_alter_table("engagement_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_engagement_checks_checked_at"))
    op.drop_table("engagement_checks")
    with op.batch_alter_table("engagement_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_engagement_snapshots_run_id"))
        batch_op.drop_index(batch_op.f("ix_engagement_snapshots_delivery_id_metric_fetched_at"))
    op.drop_table("engagement_snapshots")
    with op.batch_alter_table("engagement_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_engagement_runs_started_at"))
    op.drop_table("engagement_runs")
