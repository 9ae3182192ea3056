"""expand_care_plan: a procedure and a patient become the messages to send, pure and total."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

from reminders.domain.model import (
    Channel,
    Consent,
    MessageStatus,
    Patient,
    PlannedMessage,
    ProcedureRecord,
)
from reminders.domain.planning.careplan import CarePlan, PlanStep
from reminders.domain.planning.sms_cap import SmsCap
from reminders.domain.planning.timing import QuietHours, zone_named

# A safety step (CarePlan.catch_up_facts) whose time had passed at enrollment goes as soon
# as allowed; stale, it has this long: 168 hours always free room under the weekly SMS
# cap, and a day more covers quiet hours.
CATCH_UP_WINDOW = timedelta(days=8)
GRACE = timedelta(days=1)  # more time for a text whose day a catch-up took
CATCH_UP = (
    "catch-up: its time had passed at enrollment; it carries warning signs or care rules"
    " that still apply, so it goes as soon as allowed"
)


@dataclass(frozen=True)
class SchedulePolicy:
    quiet_hours: QuietHours = field(default_factory=QuietHours)
    sms_cap: SmsCap = field(default_factory=SmsCap)
    # The FCC 2015 healthcare exemption allows 1 a day, 3 a week without more consent.
    sms_cap_with_written_consent: SmsCap = field(default_factory=lambda: SmsCap(3, 21))


@dataclass(frozen=True)
class SendHistory:
    """What an earlier revision of the plan already sent (used when re-planning)."""

    sent_parts: frozenset[tuple[str, Channel]] = frozenset()
    sms_sent_at: tuple[datetime, ...] = ()


@dataclass
class _Sms:
    parts: list[tuple[PlanStep, datetime]]  # step and its deadline
    send_at: datetime
    local_day: date

    def deadline(self) -> datetime:
        return min(d for _, d in self.parts)


def allowed_channels(patient: Patient, consents: Iterable[Consent]) -> frozenset[Channel]:
    """Return the channels with consent given and a contact to reach the patient on."""
    given = {c.channel for c in consents if c.given}
    reachable = {Channel.SMS} if patient.phone else set()
    if patient.email:
        reachable.add(Channel.EMAIL)
    return frozenset(given & reachable)


def expand_care_plan(
    plan: CarePlan,
    procedure: ProcedureRecord,
    patient: Patient,
    consents: Sequence[Consent],
    *,
    now: datetime,
    policy: SchedulePolicy = SchedulePolicy(),
    history: SendHistory = SendHistory(),
) -> list[PlannedMessage]:
    """Turn a care plan into dated messages for one patient, in UTC, sorted by send time.

    Never in quiet hours, never over the SMS cap, never after a step's deadline: a step
    that cannot meet those rules is returned as SKIPPED with the reason, so staff see it.
    A step carrying a catch-up fact (the 911 list) whose time had passed at enrollment is
    not skipped when stale: it goes as soon as allowed, ahead of (never merged with) the
    day's text.
    """
    zone = zone_named(patient.timezone)
    channels = allowed_channels(patient, consents)
    cap = (
        policy.sms_cap_with_written_consent
        if any(c.lifts_sms_cap for c in consents)
        else policy.sms_cap
    )
    out: list[PlannedMessage] = []
    sms: list[tuple[PlanStep, datetime, datetime]] = []
    catch_up: list[tuple[PlanStep, Channel, datetime, datetime, datetime]] = []
    end = procedure.performed_at + plan.duration
    for step in plan.steps:
        if not step.applies_to(procedure, channels):
            continue
        if not step.applies_when_enrolled(procedure, now) or (
            step.enrolled_after is not None and _had_regular_track(plan, history)
        ):
            continue  # a late-only step; a re-plan of a patient who had the regular texts is not late
        planned = step.time.resolve(procedure.performed_at, zone)
        deadline = planned + step.stale_after
        send_at = policy.quiet_hours.next_allowed(max(planned, now), zone)
        late = plan.catches_up(step) and (planned < now or send_at > deadline)
        # Never lost to lateness (or the night): a week more if it needs it, to the plan's end.
        until = min(max(deadline, send_at + CATCH_UP_WINDOW), end) if late else deadline
        for channel in step.channels:
            if channel not in channels or (step.key, channel) in history.sent_parts:
                continue
            if send_at > until:
                reason = (
                    "stale: its time had passed at enrollment"
                    if now > until
                    else "stale: quiet hours would delay it past its deadline"
                )
                out.append(_single(step, channel, planned, until, MessageStatus.SKIPPED, reason))
            elif late:
                catch_up.append((step, channel, send_at, deadline, until))
            elif channel is Channel.EMAIL:
                out.append(_single(step, channel, send_at, deadline))
            else:
                sms.append((step, send_at, deadline))
    times = list(history.sms_sent_at)
    caught_up = _catch_up(catch_up, zone, cap, times, policy.quiet_hours)
    taken = {
        m.send_at.astimezone(zone).date()
        for m in caught_up
        if m.channel is Channel.SMS and _caught_up(m)
    }
    # A text whose day a catch-up took gets a day more, so it can go the next morning.
    sms = [(s, at, dl + GRACE if at.astimezone(zone).date() in taken else dl) for s, at, dl in sms]
    out.extend(caught_up)
    out.extend(_cap_sms(sms, zone, cap, times, policy.quiet_hours))
    out.sort(key=lambda m: (m.send_at, m.channel != Channel.SMS, not _caught_up(m), m.step_key))
    if not history.sms_sent_at:  # the patient's first text says how to opt out
        for i, m in enumerate(out):
            if m.channel is Channel.SMS and m.status is MessageStatus.SCHEDULED:
                out[i] = replace(m, first_sms=True)
                break
    return out


def _had_regular_track(plan: CarePlan, history: SendHistory) -> bool:
    """Whether an earlier revision sent a step that is not a catch-up (the on-time track)."""
    keys = {s.key: s for s in plan.steps}
    return any(k in keys and not plan.catches_up(keys[k]) for k, _ in history.sent_parts)


def _caught_up(m: PlannedMessage) -> bool:
    return m.status is MessageStatus.SCHEDULED and m.status_reason == CATCH_UP


def _single(
    step: PlanStep,
    channel: Channel,
    send_at: datetime,
    deadline: datetime,
    status: MessageStatus = MessageStatus.SCHEDULED,
    reason: str | None = None,
) -> PlannedMessage:
    return PlannedMessage(
        step_key=step.key,
        parts=(step.key,),
        channel=channel,
        category=step.category,
        send_at=send_at.astimezone(UTC),
        deadline=deadline.astimezone(UTC),
        status=status,
        status_reason=reason,
        checkin=step.checkin,
    )


def _catch_up(
    items: list[tuple[PlanStep, Channel, datetime, datetime, datetime]],
    zone: ZoneInfo,
    cap: SmsCap,
    times: list[datetime],
    quiet_hours: QuietHours,
) -> list[PlannedMessage]:
    """Place late safety messages first: an email at once; a text alone (one is a text's
    whole budget) at the first moment the cap allows, so the day's other texts fit around
    it. A row keeps its own deadline when it meets it, else it has until `until`."""
    out = []
    for step, channel, at, deadline, until in items:
        when: datetime | None = at
        if channel is Channel.SMS:
            when = cap.earliest_fit(
                times, at, zone, latest=until, allowed=lambda t: quiet_hours.next_allowed(t, zone)
            )
            if when is None:
                out.append(_over_cap(step, until))
                continue
            times.append(when)
        assert when is not None
        row_deadline = deadline if when <= deadline else until
        out.append(_single(step, channel, when, row_deadline, reason=CATCH_UP))
    return out


def _cap_sms(
    items: list[tuple[PlanStep, datetime, datetime]],
    zone: ZoneInfo,
    cap: SmsCap,
    times: list[datetime],
    quiet_hours: QuietHours,
) -> list[PlannedMessage]:
    """Merge same-day texts; a text the cap has no room for waits (inside its own day's
    deadline and before the next text) or is carried into the next text that fits.
    `times` (texts sent or placed already) gains each text placed."""
    items.sort(key=lambda t: t[1])
    texts: list[_Sms] = []
    for day, group in groupby(items, key=lambda t: t[1].astimezone(zone).date()):
        todays = list(group)
        singles, rest = todays[: cap.per_day - 1], todays[cap.per_day - 1 :]
        for step, at, dl in singles:
            texts.append(_Sms(parts=[(step, dl)], send_at=at, local_day=day))
        if rest:
            merged = [(s, dl) for s, _, dl in rest]
            texts.append(_Sms(parts=merged, send_at=rest[0][1], local_day=day))

    out: list[PlannedMessage] = []
    carried: list[tuple[PlanStep, datetime]] = []
    for n, text in enumerate(texts):
        latest = text.deadline()
        if n + 1 < len(texts):  # never overtake the next text
            latest = min(latest, texts[n + 1].send_at - timedelta(seconds=1))
        when = cap.earliest_fit(
            times,
            text.send_at,
            zone,
            latest=latest,
            allowed=lambda t: quiet_hours.next_allowed(t, zone),
        )
        if when is None:
            carried.extend(text.parts)
            continue
        out.extend(_over_cap(s, dl) for s, dl in carried if dl < when)
        text.parts = [(s, dl) for s, dl in carried if dl >= when] + text.parts
        text.send_at = when
        carried = []
        times.append(when)
        out.append(_merged(text))
    out.extend(_over_cap(s, dl) for s, dl in carried)
    return out


def _over_cap(step: PlanStep, deadline: datetime) -> PlannedMessage:
    return _single(
        step,
        Channel.SMS,
        deadline,
        deadline,
        MessageStatus.SKIPPED,
        "SMS limit: no text with room went out before its deadline",
    )


def _merged(text: _Sms) -> PlannedMessage:
    # The question of a check-in goes last, so the text ends with what to reply.
    parts = sorted(text.parts, key=lambda p: p[0].checkin is not None)
    steps = [s for s, _ in parts]
    checkins = [s.checkin for s in steps if s.checkin]
    return PlannedMessage(
        step_key="+".join(s.key for s in steps),
        parts=tuple(s.key for s in steps),
        channel=Channel.SMS,
        category=steps[0].category,
        send_at=text.send_at.astimezone(UTC),
        deadline=text.deadline().astimezone(UTC),
        checkin=checkins[-1] if checkins else None,
    )
