"""Send again: one resend row that obeys every rule, once per failed message."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import insert, select, update
from webtools import add_staff, client, login, post_form

from reminders.adapters.db.orm import (
    audit_log,
    checkin_answers,
    checkins,
    inbound_messages,
    sms_opt_outs,
)
from reminders.adapters.db.orm import scheduled_messages as M
from reminders.domain.enrollment.commands import GiveConsent
from reminders.domain.model import Channel, ConsentMethod
from reminders.domain.staff.accounts import CannotResend, ResendNeedsConfirmation
from reminders.services.enrollments import enrollment as enroll_svc
from reminders.services.enrollments.resend import resend
from support.live import (
    ANA,
    dispatch,
    enroll,
    row,
    send,
)


def press_send_again(c, eid, mid, **kw):
    return resend(
        eid,
        mid,
        uow=c.uow(),
        delivery=c.delivery,
        by="nurse.kim",
        now=c.clock(),
        **kw,
    )


def failed_text(live, engine, cmd=ANA, *, checkin: bool = False):
    """Send texts until the first one (or the first check-in); the carrier reports it
    undelivered."""
    e = enroll(live, cmd).enrollment
    while True:
        ids = dispatch(live)
        for mid in ids:
            send(live, mid)
        with engine.connect() as conn:
            wanted = M.c.checkin.is_not(None) if checkin else M.c.channel == "sms"
            found = conn.execute(select(M).where(wanted, M.c.status == "sent")).first()
            nxt = conn.execute(
                select(M.c.send_at).where(M.c.status == "scheduled").order_by(M.c.send_at)
            ).first()
        if found is not None:
            break
        live.clock.now = nxt.send_at
    with engine.begin() as conn:
        conn.execute(update(M).where(M.c.id == found.id).values(status="undelivered"))
    return e.id, found.id


def test_send_again_pressed_five_times_sends_one_text(live, engine, twilio):
    eid, mid = failed_text(live, engine)
    before = len(twilio.messages)
    press_send_again(live, eid, mid)
    for _ in range(4):
        with pytest.raises(CannotResend, match="already sent again"):
            press_send_again(live, eid, mid)
    with engine.connect() as conn:
        resends = conn.execute(select(M).where(M.c.resend_of == mid)).all()
        audited = conn.execute(select(audit_log).where(audit_log.c.action == "resent")).all()
    assert len(resends) == 1 and resends[0].kind == "resend" and len(audited) == 1
    for _ in range(3):  # whatever dispatch and the workers do, one text goes out
        for i in dispatch(live):
            send(live, i)
        live.clock.advance(minutes=10)
    assert len(twilio.messages) == before + 1
    assert twilio.messages[-1]["body"] == row(engine, mid).body


def test_a_resend_with_no_room_under_the_cap_before_its_deadline_is_refused(live, engine, twilio):
    eid, mid = failed_text(live, engine)
    with engine.begin() as conn:  # another text reached the phone today: one a day
        other = conn.execute(
            select(M.c.id).where(M.c.channel == "sms", M.c.status == "scheduled")
        ).first()
        conn.execute(
            update(M).where(M.c.id == other.id).values(status="delivered", sent_at=live.clock())
        )
    with pytest.raises(CannotResend, match="SMS limit"):
        press_send_again(live, eid, mid)
    with engine.connect() as conn:
        assert conn.execute(select(M).where(M.c.resend_of == mid)).first() is None


def answered_checkin(live, engine):
    """A check-in text reported undelivered, which the patient answered all the same."""
    more = (GiveConsent(Channel.SMS, ConsentMethod.WRITTEN, more_frequent_sms=True),)
    eid, mid = failed_text(live, engine, replace(ANA, consents=more), checkin=True)
    with engine.begin() as conn:
        kind = conn.execute(select(M.c.checkin).where(M.c.id == mid)).scalar_one()
        inbound = conn.execute(
            insert(inbound_messages).values(
                message_sid="SMx",
                from_phone="+18055550142",
                body="3",
                received_at=live.clock(),
                action="answer",
                needs_staff=False,
            )
        ).inserted_primary_key[0]
        checkin = conn.execute(
            insert(checkins).values(
                message_id=mid,
                enrollment_id=eid,
                phone="+18055550142",
                kind=kind,
                asked_at=live.clock(),
                status="answered",
                updated_at=live.clock(),
            )
        ).inserted_primary_key[0]
        conn.execute(
            insert(checkin_answers).values(
                checkin_id=checkin,
                enrollment_id=eid,
                inbound_id=inbound,
                kind=kind,
                answer="3",
                pain=3,
                red_flag=False,
                answered_at=live.clock() + timedelta(minutes=1),
            )
        )
    live.clock.advance(minutes=5)
    return eid, mid


def test_a_question_already_answered_needs_confirmation(live, engine, twilio):
    eid, mid = answered_checkin(live, engine)
    with pytest.raises(ResendNeedsConfirmation, match="already answered"):
        press_send_again(live, eid, mid)
    press_send_again(live, eid, mid, confirm=True)
    with engine.connect() as conn:
        detail = conn.execute(
            select(audit_log.c.detail).where(audit_log.c.action == "resent")
        ).scalar_one()
    assert "staff confirmed" in detail


def test_a_resend_after_cancel_is_refused(live, engine, twilio):
    eid, mid = failed_text(live, engine)
    enroll_svc.cancel(eid, uow=live.uow(), by="nurse.kim", reason="moved away", now=live.clock())
    with pytest.raises(Exception, match="cancelled"):
        press_send_again(live, eid, mid)


def test_on_the_patient_page_the_nurse_confirms_or_leaves_it(live, engine, twilio):
    eid, mid = answered_checkin(live, engine)
    add_staff(live)
    web = client(live)
    login(web)
    page = f"/staff/patients/{eid}"
    action = f"{page}/messages/{mid}/resend"
    r = post_form(web, page, action, {})
    assert r.status_code == 409 and "already answered" in r.text
    assert 'id="confirm-resend"' in r.text and 'name="confirm" value="yes"' in r.text
    with engine.connect() as conn:
        assert conn.execute(select(M).where(M.c.resend_of == mid)).first() is None
    r = post_form(web, page, action, {"confirm": "yes"})
    assert "will be sent again" in r.text
    assert f"sent again by staff (message #{mid})" in r.text
    assert f'action="{action}"' not in r.text  # no second Send again for the same message


def test_no_send_again_after_stop_and_a_refusal_is_said_by_its_message(live, engine, twilio):
    eid, mid = failed_text(live, engine)
    add_staff(live)
    web = client(live)
    login(web)
    page = f"/staff/patients/{eid}"
    action = f"{page}/messages/{mid}/resend"
    assert f'action="{action}"' in web.get(page).text
    with engine.begin() as conn:  # its deadline passed while the page was open: refused
        conn.execute(update(M).where(M.c.id == mid).values(deadline=live.clock()))
    r = post_form(web, page, action, {})
    assert r.status_code == 422, (r.url, re.findall(r'class="flash[^>]*>([^<]*)', r.text))
    entry = r.text[r.text.index(f'id="m-{mid}"') :]
    entry = entry[: entry.index("</li>")]
    assert 'id="message-error"' in entry and "data-focus-here" in entry  # where the button is
    with engine.begin() as conn:  # the patient replied STOP
        conn.execute(
            insert(sms_opt_outs).values(
                phone=ANA.phone, active=True, source="keyword", detail="replied STOP",
                opted_out_at=live.clock(), updated_at=live.clock(),
            )
        )  # fmt: skip
    after = web.get(page).text
    assert f'action="{action}"' not in after
    assert "Not sent again: the patient replied STOP." in after
