"""`reminders enroll`, `show`, `cancel`, `restart` and `reschedule`: one enrollment at a time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from reminders.domain.enrollment.commands import AddCaregiver, EnrollPatient, GiveConsent
from reminders.domain.model import Channel, ConsentMethod, Enrollment
from reminders.entrypoints.cli.common import IsoDateTime, container, friendly_errors
from reminders.entrypoints.cli.formatting import format_enrollment
from reminders.services.enrollments import care
from reminders.services.enrollments import enrollment as enrollments


@click.command()
@click.option("--first-name", required=True)
@click.option("--last-name", required=True)
@click.option("--phone", help="Mobile number; +country code outside the US.")
@click.option("--email")
@click.option("--procedure", required=True)
@click.option("--performed-at", type=IsoDateTime(), required=True)
@click.option("--timezone", help="Patient's IANA zone; default: the clinic's.")
@click.option("--language", default="en", show_default=True)
@click.option("--levels", type=click.IntRange(1, 10), default=1, show_default=True)
@click.option("--overnight", is_flag=True)
@click.option("--external-id", help="The procedure's id in the EHR; enrolling it twice is safe.")
@click.option(
    "--consent",
    "consent_specs",
    multiple=True,
    required=True,
    metavar="CHANNEL[:METHOD]",
    help="Consent given, e.g. sms:verbal or email:written. Repeat for each channel.",
)
@click.option("--more-sms", is_flag=True, help="Written consent to more than 1 SMS a day.")
@click.option("--by", "enrolled_by", default="cli", show_default=True, help="Who is enrolling.")
@click.option("--caregiver-name", help="An optional caregiver (safety texts, no check-ins).")
@click.option("--caregiver-relationship", default="", help="e.g. daughter, husband.")
@click.option("--caregiver-phone", help="The caregiver's mobile; not the patient's.")
@click.option("--caregiver-email")
@click.option("--caregiver-language", help="Default: the patient's language.")
@click.option(
    "--caregiver-consent",
    "caregiver_consents",
    multiple=True,
    type=click.Choice(["sms", "email"]),
    help="A channel the caregiver agreed to. Repeat for each.",
)
@friendly_errors
def enroll(consent_specs: tuple[str, ...], more_sms: bool, **fields: Any) -> None:
    """Enroll a patient whose procedure is done; the schedule is stored and printed."""
    c = container()
    consents = tuple(_consent(spec, more_sms) for spec in consent_specs)
    fields["timezone"] = fields["timezone"] or c.settings.clinic_timezone
    caregiver = _caregiver(fields)
    cmd = EnrollPatient(consents=consents, caregiver=caregiver, **fields)
    result = enrollments.enroll(
        cmd,
        uow=c.uow(),
        planning=c.planning,
        now=c.clock(),
        via="command line",
    )
    verb = "Enrolled" if result.created else "Already enrolled (nothing changed)"
    click.echo(f"{verb}: enrollment {result.enrollment.id}")
    click.echo(format_enrollment(result.enrollment))


def _caregiver(fields: dict[str, Any]) -> AddCaregiver | None:
    """Take the --caregiver-* options out of `fields`; any of them given means a caregiver."""
    given = {
        k.removeprefix("caregiver_"): fields.pop(k)
        for k in list(fields)
        if k.startswith("caregiver_")
    }
    channels = given.pop("consents", ())
    if not any(given.get(k) for k in ("name", "phone", "email")):
        return None
    return AddCaregiver(
        name=given.get("name") or "",
        relationship=given.get("relationship") or "",
        phone=given.get("phone"),
        email=given.get("email"),
        language=given.get("language"),
        sms_consent="sms" in channels,
        email_consent="email" in channels,
    )


def _consent(spec: str, more_sms: bool) -> GiveConsent:
    channel_text, _, method_text = spec.partition(":")
    try:
        channel = Channel(channel_text.strip().lower())
        method = ConsentMethod((method_text or "verbal").strip().lower())
    except ValueError:
        raise click.BadParameter(
            f"{spec!r}: use sms or email, optionally with :verbal or :written",
            param_hint="--consent",
        ) from None
    return GiveConsent(channel, method, more_frequent_sms=more_sms and channel is Channel.SMS)


@click.command()
@click.argument("enrollment_id", type=int)
@friendly_errors
def show(enrollment_id: int) -> None:
    """Show an enrollment and every message with its status."""
    c = container()
    click.echo(format_enrollment(enrollments.get_enrollment(enrollment_id, uow=c.uow())))


@click.command()
@click.argument("enrollment_id", type=int)
@click.option("--reason", default="cancelled by staff", show_default=True)
@click.option("--by", default="cli", show_default=True)
@friendly_errors
def cancel(enrollment_id: int, reason: str, by: str) -> None:
    """Cancel every unsent message of an enrollment (`reminders restart` undoes it)."""
    c = container()
    before = enrollments.get_enrollment(enrollment_id, uow=c.uow())
    if before.status == "cancelled":
        click.echo(f"Enrollment {enrollment_id} was already cancelled; nothing changed.")
        return
    after = enrollments.cancel(enrollment_id, uow=c.uow(), by=by, reason=reason, now=c.clock())
    stopped = sum(m.status.value == "cancelled" for m in after.messages) - sum(
        m.status.value == "cancelled" for m in before.messages
    )
    click.echo(
        f"Cancelled enrollment {enrollment_id}: {stopped} unsent message(s) will not go out."
    )


@click.command()
@click.argument("enrollment_id", type=int)
@click.option("--by", default="cli", show_default=True)
@friendly_errors
def restart(enrollment_id: int, by: str) -> None:
    """Restart a cancelled enrollment from now; messages whose time has passed are not sent."""
    c = container()
    e = care.restart(enrollment_id, uow=c.uow(), planning=c.planning, by=by, now=c.clock())
    click.echo(format_enrollment(e))


@click.command()
@click.argument("enrollment_id", type=int)
@click.option("--performed-at", type=IsoDateTime(), required=True, help="The corrected time.")
@click.option("--by", default="cli", show_default=True)
@friendly_errors
def reschedule(enrollment_id: int, performed_at: datetime, by: str) -> None:
    """Re-plan unsent messages after correcting the procedure time."""
    c = container()
    updated: Enrollment = care.update_enrollment(
        enrollment_id,
        performed_at=performed_at,
        uow=c.uow(),
        planning=c.planning,
        by=by,
        now=c.clock(),
    )
    click.echo(format_enrollment(updated))
