"""Notifications live the outbound lifecycle: its states, a lease, their enrollment and deadline

pending becomes scheduled (due at its creation), a failed alert still to be tried again
becomes scheduled at its next attempt; the enrollment of a check-in reminder or a page is
filled in from its check-in or escalation.

Revision ID: 0014_outbound_lifecycle
Revises: 0013_totp_encrypted
Create Date: 2026-12-08 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reminders.adapters.db.orm import UTCDateTime

revision: str = "0014_outbound_lifecycle"
down_revision: str | None = "0013_totp_encrypted"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enrollment_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("status_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("deadline", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("lease_until", UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            "fk_notifications_enrollment", "enrollments", ["enrollment_id"], ["id"]
        )
        batch_op.create_index("ix_notifications_enrollment_id", ["enrollment_id"])
    op.execute(
        "UPDATE notifications SET status = 'scheduled',"
        " next_attempt_at = COALESCE(next_attempt_at, created_at) WHERE status = 'pending'"
    )
    op.execute(
        "UPDATE notifications SET status = 'scheduled'"
        " WHERE status = 'failed' AND next_attempt_at IS NOT NULL"
    )
    op.execute(
        "UPDATE notifications SET enrollment_id = (SELECT c.enrollment_id FROM checkins c"
        " WHERE c.id = notifications.checkin_id) WHERE checkin_id IS NOT NULL"
    )
    op.execute(
        "UPDATE notifications SET enrollment_id = (SELECT e.enrollment_id FROM escalations e"
        " WHERE e.id = notifications.escalation_id)"
        " WHERE enrollment_id IS NULL AND escalation_id IS NOT NULL"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE notifications SET status = 'pending' WHERE status IN ('scheduled', 'queued')"
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_enrollment_id")
        batch_op.drop_constraint("fk_notifications_enrollment", type_="foreignkey")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("deadline")
        batch_op.drop_column("status_reason")
        batch_op.drop_column("enrollment_id")
