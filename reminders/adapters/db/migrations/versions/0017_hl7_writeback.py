"""HL7 v2 messages, enrollment references, the FHIR write-back outbox and its cursors

Revision ID: 0017_hl7_writeback
Revises: 0015_security_v3
Create Date: 2026-12-08 01:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_hl7_writeback"
down_revision: str | None = "0015_security_v3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "hl7_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=200), nullable=False),
        sa.Column("control_id", sa.String(length=200), nullable=False),
        sa.Column("message_type", sa.String(length=20), nullable=False),
        sa.Column("received_at", WHEN, nullable=False),
        sa.Column("ack_code", sa.String(length=2), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=True),
        sa.Column("patient_identifier", sa.String(length=250), nullable=True),
        sa.Column("visit_number", sa.String(length=250), nullable=True),
        sa.Column("location", sa.String(length=250), nullable=True),
        sa.Column("pending", sa.Text(), nullable=True),
        sa.Column("settled_at", WHEN, nullable=True),
        sa.Column("settled_by", sa.String(length=100), nullable=True),
        sa.Column("ack", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hl7_messages")),
        sa.UniqueConstraint("sender", "control_id", name=op.f("uq_hl7_messages_sender_control_id")),
    )
    op.create_index(op.f("ix_hl7_messages_received_at"), "hl7_messages", ["received_at"])
    op.create_index(op.f("ix_hl7_messages_enrollment_id"), "hl7_messages", ["enrollment_id"])
    op.create_index(
        op.f("ix_hl7_messages_patient_identifier"), "hl7_messages", ["patient_identifier"]
    )
    op.create_table(
        "enrollment_refs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=200), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["enrollments.id"],
            name=op.f("fk_enrollment_refs_enrollment_id_enrollments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment_refs")),
        sa.UniqueConstraint("ref", name=op.f("uq_enrollment_refs_ref")),
    )
    op.create_index(op.f("ix_enrollment_refs_enrollment_id"), "enrollment_refs", ["enrollment_id"])
    op.create_table(
        "fhir_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_id", sa.String(length=120), nullable=False),
        sa.Column("resource_type", sa.String(length=32), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", WHEN, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("delivered_at", WHEN, nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["enrollments.id"],
            name=op.f("fk_fhir_outbox_enrollment_id_enrollments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fhir_outbox")),
        sa.UniqueConstraint("business_id", name=op.f("uq_fhir_outbox_business_id")),
    )
    op.create_index(op.f("ix_fhir_outbox_enrollment_id"), "fhir_outbox", ["enrollment_id"])
    op.create_index(op.f("ix_fhir_outbox_patient_id"), "fhir_outbox", ["patient_id"])
    op.create_index("ix_fhir_outbox_due", "fhir_outbox", ["status", "next_attempt_at"])
    op.create_table(
        "writeback_cursors",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("position", sa.String(length=64), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_writeback_cursors")),
    )


def downgrade() -> None:
    op.drop_table("writeback_cursors")
    op.drop_index("ix_fhir_outbox_due", table_name="fhir_outbox")
    op.drop_index(op.f("ix_fhir_outbox_patient_id"), table_name="fhir_outbox")
    op.drop_index(op.f("ix_fhir_outbox_enrollment_id"), table_name="fhir_outbox")
    op.drop_table("fhir_outbox")
    op.drop_index(op.f("ix_enrollment_refs_enrollment_id"), table_name="enrollment_refs")
    op.drop_table("enrollment_refs")
    op.drop_index(op.f("ix_hl7_messages_patient_identifier"), table_name="hl7_messages")
    op.drop_index(op.f("ix_hl7_messages_enrollment_id"), table_name="hl7_messages")
    op.drop_index(op.f("ix_hl7_messages_received_at"), table_name="hl7_messages")
    op.drop_table("hl7_messages")
