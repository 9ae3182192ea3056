"""message kind, resend_of (one resend per failed message) and reason codes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 17:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scheduled_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason_code", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="care", nullable=False)
        )
        batch_op.add_column(sa.Column("resend_of", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_scheduled_messages_resend_of"), ["resend_of"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_scheduled_messages_resend_of_scheduled_messages"),
            "scheduled_messages",
            ["resend_of"],
            ["id"],
        )
    # Opt-outs were told apart by the words of their reason; now by a code.
    op.execute(
        "UPDATE scheduled_messages SET reason_code = 'opted_out'"
        " WHERE status = 'cancelled' AND status_reason LIKE 'patient opted out of SMS%'"
    )


def downgrade() -> None:
    with op.batch_alter_table("scheduled_messages", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_scheduled_messages_resend_of_scheduled_messages"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_scheduled_messages_resend_of"), type_="unique")
        batch_op.drop_column("resend_of")
        batch_op.drop_column("kind")
        batch_op.drop_column("reason_code")
