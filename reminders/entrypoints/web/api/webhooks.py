"""Twilio webhooks: delivery status and inbound texts, each checked against X-Twilio-Signature."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.datastructures import FormData
from twilio.request_validator import SIGNATURE_HEADER, RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from reminders.adapters.inbound_spool import InboundSpool
from reminders.bootstrap import Container
from reminders.entrypoints.web.deps import ContainerDep
from reminders.services.delivery import status
from reminders.services.replies import alerts
from reminders.services.replies import inbound as replies

log = logging.getLogger(__name__)
router = APIRouter(prefix="/webhooks/twilio", include_in_schema=False)
MAX_BODY = 64 * 1024  # Twilio's parameters fit in a few kB; anything larger is not Twilio


def signed_url(request: Request, public_url: str) -> str:
    """The URL Twilio called: REMINDERS_PUBLIC_URL (scheme and host as Twilio sees them),
    this path and the query string exactly as sent."""
    query = request.url.query
    return f"{public_url}{request.url.path}" + (f"?{query}" if query else "")


async def signed_form(request: Request, c: ContainerDep) -> FormData:
    """The POSTed form, once its signature matches; otherwise 403 before anything is read."""
    token = c.settings.twilio_auth_token
    if not token:
        raise HTTPException(403, "TWILIO_AUTH_TOKEN is not set, so no webhook can be verified")
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature:
        raise HTTPException(403, f"missing {SIGNATURE_HEADER} header")
    length = request.headers.get("content-length") or "0"
    if not length.isdigit() or int(length) > MAX_BODY:
        raise HTTPException(413, "request too large for a Twilio webhook")
    try:
        form = await request.form()
    except Exception:  # a malformed body cannot carry a valid signature anyway
        raise HTTPException(403, "the request signature does not match") from None
    url = signed_url(request, c.settings.public_url)
    if not RequestValidator(token).validate(url, form, signature):
        log.warning("rejected a webhook with a bad signature for %s", url)
        raise HTTPException(
            403,
            "the request signature does not match (is REMINDERS_PUBLIC_URL the URL Twilio calls?)",
        )
    return form


SignedForm = Annotated[FormData, Depends(signed_form)]


# Column sizes of what a webhook stores verbatim (inbound_messages, scheduled_messages).
ID_LIMITS = {
    "MessageSid": 64,
    "SmsSid": 64,
    "CallSid": 64,
    "CallStatus": 32,
    "From": 32,
    "To": 32,
    "ErrorCode": 16,
}


def _text(form: Mapping[str, object], name: str) -> str:
    """A parameter Twilio sends as a short identifier: refused (400) when it cannot be one."""
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    limit = ID_LIMITS.get(name, 64)
    if len(value) > limit or any(ord(ch) < 32 for ch in value):
        raise HTTPException(
            400, f"{name} is not a Twilio value (control characters or over {limit} characters)"
        )
    return value


def _body(form: Mapping[str, object]) -> str:
    """The text as the patient wrote it; a NUL (no database stores one) becomes U+FFFD."""
    value = form.get("Body")
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else ""


def twiml(message: str | None = None) -> Response:
    reply = MessagingResponse()
    if message:
        reply.message(message)
    return Response(str(reply), media_type="application/xml")


@router.post("/status")
def status_callback(form: SignedForm, c: ContainerDep) -> Response:
    """Record a delivery report, or how a call ended; a duplicate, late or unknown one is
    acknowledged, not applied."""
    call_sid, call_word = _text(form, "CallSid"), _text(form, "CallStatus")
    if call_sid and call_word and not _text(form, "MessageSid"):
        report = status.StatusReport(sid=call_sid, status=call_word, error_code=None)
        status.record_call_status(report, uow=c.uow(), now=c.clock())
        return twiml()
    sid = _text(form, "MessageSid") or _text(form, "SmsSid")
    word = _text(form, "MessageStatus") or _text(form, "SmsStatus")
    if not sid or not word:
        raise HTTPException(400, "a status callback needs MessageSid and MessageStatus")
    report = status.StatusReport(sid=sid, status=word, error_code=_text(form, "ErrorCode") or None)
    status.record_status(report, uow=c.uow(), now=c.clock())
    return twiml()


def inbound_message(form: Mapping[str, object]) -> replies.InboundSms:
    """The text a signed form carries; 400 when it has no sender."""
    sender = _text(form, "From").strip()
    if not sender:
        raise HTTPException(400, "an inbound message needs From")
    return replies.InboundSms(
        from_phone=sender,
        body=_body(form),
        sid=_text(form, "MessageSid") or _text(form, "SmsSid") or None,
        to_phone=_text(form, "To") or None,
        opt_out_type=_text(form, "OptOutType") or None,
    )


# The database is unreachable (down, frozen past the client timeouts, or failing over):
# the request is kept in the spool, not lost (docs/reliability.md).
DATABASE_DOWN = (OperationalError, InterfaceError)


@router.post("/inbound")
def inbound(form: SignedForm, request: Request, c: ContainerDep) -> Response:
    """Take a patient's text; answer in TwiML; the workers alert on-call staff at once. When the
    database cannot take it, the signed request is kept in the spool and answered 200 with an
    empty TwiML; it is handled, in arrival order, once the database is back."""
    msg = inbound_message(form)
    spool = InboundSpool(c.settings.var_dir)
    if spool.has_pending():
        drain_spool(c)  # a no-op while another process drains
        if spool.has_pending():
            return _keep(spool, form, request, c)  # behind older texts: keep the order
    try:
        handled = _handle(c, msg)
    except DATABASE_DOWN:
        log.exception("the database is unreachable; keeping the inbound text in the spool")
        return _keep(spool, form, request, c)
    if handled.notification_ids:
        _queue_alerts(c, handled.notification_ids)
    return twiml(handled.reply)


def _keep(spool: InboundSpool, form: FormData, request: Request, c: ContainerDep) -> Response:
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    spool.put(
        fields,
        url=signed_url(request, c.settings.public_url),
        signature=request.headers.get(SIGNATURE_HEADER, ""),
    )
    return twiml()


def _handle(c: Container, msg: replies.InboundSms) -> replies.Handled:
    """Handle a text; a failure other than the database's own stores it for staff (and a
    database failure while storing it propagates, so the caller spools it)."""
    try:
        return replies.receive_sms(msg, uow=c.uow(), replying=replying(c), now=c.clock())
    except DATABASE_DOWN:
        raise
    except Exception as exc:
        log.exception("could not handle an inbound text; storing it for staff")
        stored = replies.store_unprocessed(
            msg, uow=c.uow(), error=f"{exc.__class__.__name__}: {exc}", now=c.clock()
        )
        return replies.Handled(inbound_id=stored or 0, action="unprocessed", reply=None)


def drain_spool(c: Container) -> bool:
    """Handle the kept requests oldest first, each once (its MessageSid makes a replay a
    no-op); stop at the first the database cannot take. Returns False when another process
    is draining. The reply TwiML cannot reach the patient any more; alerts still go."""
    spool = InboundSpool(c.settings.var_dir)
    with spool.draining() as mine:
        if not mine:
            return False
        for item in spool.pending():
            try:
                msg = inbound_message(item.form)
            except HTTPException:
                log.error("dropping a spooled request that carries no text: %s", item.path.name)
                spool.done(item)
                continue
            try:
                handled = _handle(c, msg)
            except DATABASE_DOWN:
                log.warning("the database is still unreachable; the spool waits")
                return True
            spool.done(item)
            if handled.notification_ids:
                _queue_alerts(c, handled.notification_ids)
            log.info("handled a spooled inbound text (%s)", item.path.name)
    return True


def replying(c: Container) -> replies.Replying:
    return replies.Replying(
        renderer=c.renderer,
        clinic=c.clinic,
        oncall=alerts.OnCall.from_settings(c.settings),
        public_url=c.settings.public_url,
    )


def _queue_alerts(c: Container, ids: tuple[int, ...]) -> None:
    """Hand the alerts (committed rows) to the workers; if the broker is down, the beat's
    retry sends every alert still pending after a minute, so nothing is lost."""
    try:
        c.send_task("reminders.send_alerts", list(ids))
    except Exception:
        log.exception("could not queue on-call alerts %s; the beat will send them", ids)
