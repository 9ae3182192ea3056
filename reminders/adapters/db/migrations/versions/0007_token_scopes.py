"""API token scopes and expiry; tokens made before keep every scope

Revision ID: 0007_token_scopes
Revises: 0005
Create Date: 2026-11-25 17:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reminders.adapters.db.orm import UTCDateTime

revision: str = "0007_token_scopes"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALL_SCOPES = "enroll fhir metrics read"


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        # The server default gives existing tokens every scope, so EHRs keep working.
        batch_op.add_column(
            sa.Column("scopes", sa.String(length=100), server_default=ALL_SCOPES, nullable=False)
        )
        batch_op.add_column(sa.Column("expires_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
        batch_op.drop_column("scopes")
