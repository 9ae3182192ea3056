"""staff_users.totp_secret wide enough for a Fernet token (TOTP secrets encrypted at rest)

Existing secrets stay as they are (plain base32) and are encrypted at their next use.

Revision ID: 0013_totp_encrypted
Revises: 0012_caregivers
Create Date: 2026-11-25 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_totp_encrypted"
down_revision: str | None = "0012_caregivers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.alter_column(
            "totp_secret",
            existing_type=sa.String(length=64),
            type_=sa.String(length=255),
            existing_nullable=True,
        )


def downgrade() -> None:
    # An encrypted secret does not fit the old width: those users set the factor up again.
    conn = op.get_bind()
    conn.execute(
        sa.text(
            "UPDATE staff_users SET totp_secret = NULL, totp_enabled_at = NULL"
            " WHERE totp_secret LIKE 'fernet:%'"
        )
    )
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.alter_column(
            "totp_secret",
            existing_type=sa.String(length=255),
            type_=sa.String(length=64),
            existing_nullable=True,
        )
