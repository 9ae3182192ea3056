"""audit_log: the application's database role may only INSERT and SELECT (PostgreSQL)

The audit chain is keyed and checkpointed outside the database (docs/security.md,
"(c) Integrity"); this takes UPDATE, DELETE and TRUNCATE on the table away from the
role the application connects as, `reminders_app`, when that role exists (created by
the DBA, as docs/security.md shows), and from PUBLIC. SQLite has no roles: nothing to do.

Revision ID: 0015_security_v3
Revises: 0014_outbound_lifecycle
Create Date: 2026-12-08 02:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015_security_v3"
down_revision: str | None = "0014_outbound_lifecycle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "reminders_app"
GRANTS = f"""
DO $$
BEGIN
  REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
    REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_log FROM {APP_ROLE};
    GRANT SELECT, INSERT ON audit_log TO {APP_ROLE};
  END IF;
END $$
"""
UNDO = f"""
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
    GRANT UPDATE, DELETE ON audit_log TO {APP_ROLE};
  END IF;
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(GRANTS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(UNDO)
