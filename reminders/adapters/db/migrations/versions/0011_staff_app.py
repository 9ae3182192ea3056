"""patients.search_text (accent- and case-blind search); import_rows.source_values

Revision ID: 0011_staff_app
Revises: 0006_sessions
Create Date: 2026-11-25 17:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from reminders.domain.staff.search import patient_search_key

revision: str = "0011_staff_app"
down_revision: str | None = "0006_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("import_rows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_values", sa.Text(), nullable=True))
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.Text(), server_default="", nullable=False))
    # Existing patients get their key the way new ones do (Python, so both databases agree).
    conn = op.get_bind()
    patients = sa.table(
        "patients",
        sa.column("id", sa.Integer),
        sa.column("first_name", sa.String),
        sa.column("last_name", sa.String),
        sa.column("phone", sa.String),
        sa.column("email", sa.String),
        sa.column("search_text", sa.Text),
    )
    rows = conn.execute(
        sa.select(
            patients.c.id,
            patients.c.first_name,
            patients.c.last_name,
            patients.c.phone,
            patients.c.email,
        )
    ).all()
    for r in rows:
        key = patient_search_key(
            first_name=r.first_name, last_name=r.last_name, phone=r.phone, email=r.email
        )
        conn.execute(patients.update().where(patients.c.id == r.id).values(search_text=key))


def downgrade() -> None:
    with op.batch_alter_table("import_rows", schema=None) as batch_op:
        batch_op.drop_column("source_values")
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_column("search_text")
