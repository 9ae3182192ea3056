"""closed loop: acknowledgement codes and the paging ladder of escalations, alert steps

Revision ID: 0009_closed_loop
Revises: 0007_token_scopes
Create Date: 2026-11-25 17:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reminders.adapters.db.orm import UTCDateTime

revision: str = "0009_closed_loop"
down_revision: str | None = "0007_token_scopes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("pages", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("next_page_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_escalations_code"), ["code"])
        batch_op.create_index("ix_escalations_next_page", ["status", "next_page_at"], unique=False)
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("step", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("step")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index("ix_escalations_next_page")
        batch_op.drop_constraint(batch_op.f("uq_escalations_code"), type_="unique")
        batch_op.drop_column("next_page_at")
        batch_op.drop_column("pages")
        batch_op.drop_column("code")
