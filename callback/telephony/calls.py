"""Click-to-call: place the agent leg, bridge to the customer, store every event once, derive the state.

The state of a call is computed from all its stored events (never from the last one that arrived), so
Twilio's retried and out-of-order webhooks end in the same state. A customer leg that ends busy, with
no answer or failed becomes the attempt's outcome through `outcomes.close_attempt` (the one closing
service), which applies the queue's retry rules.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from verification.validators import normalize_phone
from verification.vocab import Outcome

from .. import outcomes, queue
from ..models import CallAttempt, CallbackTask, CallEvent, Party, Recording
from ..models.tasks import LIVE_CALL_STATUSES
from ..models.telephony import CallLeg, RecordingStatus
from ..script_for_policy import version_for_policy
from .backends import CallRequest, TelephonyError, console_course, get_backend
from .notices import precall_notice
from .webhooks import public_url

log = logging.getLogger("callback.telephony")

ENDED = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
RANK = {"queued": 0, "initiated": 1, "ringing": 2, "in-progress": 3, "answered": 3}
# The customer's leg ended without a conversation: the attempt closes with this outcome by itself.
AUTO_OUTCOMES = {"busy": Outcome.BUSY, "no-answer": Outcome.NO_ANSWER, "failed": Outcome.WRONG_NUMBER}
# A request that died between "initiating" and Twilio's answer must not block the task forever.
STALE_INITIATING = dt.timedelta(minutes=2)


class CallRefused(Exception):
    """The call was not placed; the message says why and what to do."""


def _rank(event: CallEvent) -> tuple:
    return (4 if event.status in ENDED else RANK.get(event.status, 0), event.sequence or 0, event.pk or 0)


def derive_state(events: list[CallEvent]) -> str:
    """The call's state from every status event of both legs, whatever order they arrived in."""
    legs: dict[str, CallEvent] = {}
    for event in events:
        if event.kind == "status" and (event.leg not in legs or _rank(event) > _rank(legs[event.leg])):
            legs[event.leg] = event
    agent = legs[CallLeg.AGENT].status if CallLeg.AGENT in legs else ""
    customer = legs[CallLeg.CUSTOMER].status if CallLeg.CUSTOMER in legs else ""
    if customer in ENDED:
        return customer
    if customer == "in-progress":
        return "completed" if agent in ENDED else "in-progress"
    if customer:
        return "canceled" if agent in ENDED else "ringing"
    if agent in ENDED:
        return "agent_unanswered" if agent != "completed" else "canceled"
    return "connecting" if agent == "in-progress" else "agent_ringing"


def agent_number(agent) -> str:
    profile = getattr(agent, "profile", None)
    raw = profile.phone if profile else ""
    return normalize_phone(raw) or (raw or "").strip()


def customer_number(task: CallbackTask, which: str) -> str:
    """The applicant's `which` number on file ("mobile" or "phone"), if not known to be dead."""
    applicant = Party.objects.applicant_of(task.policy_id)
    for field, number in outcomes.live_numbers(task, applicant):
        if field == which:
            return number
    return ""


def _is_live(attempt: CallAttempt, now: dt.datetime) -> bool:
    if attempt.call_status == "initiating":
        return bool(attempt.call_placed_at and now - attempt.call_placed_at < STALE_INITIATING)
    return attempt.call_status in LIVE_CALL_STATUSES


def place_call(*, task_id: int, agent, which: str = "mobile") -> CallAttempt:
    """Ring the agent's phone, then (TwiML <Dial>) the customer's number on file. One live call per task."""
    backend = get_backend()
    now = timezone.now()
    mine = agent_number(agent)
    with transaction.atomic():
        # The task row lock serialises two clicks (or tabs) of the same agent; the second one then
        # finds the first call live and stops. The unique constraint one_live_call_per_task is the
        # database's own guard behind it.
        task = (
            CallbackTask.objects.select_for_update()
            .filter(pk=task_id, holder=agent, lease_expires_at__gt=now)
            .first()
        )
        if task is None:
            raise CallRefused(_("This callback is no longer yours: press “Next callback”."))
        if not mine:
            raise CallRefused(_("Your staff profile has no phone number to ring: ask an admin to add it."))
        if any(
            _is_live(a, now)
            for a in CallAttempt.objects.filter(task=task, call_status__in=LIVE_CALL_STATUSES)
        ):
            raise CallRefused(_("A call for this callback is already in progress."))
        number = customer_number(task, which)
        if not number:
            raise CallRefused(_("The policy has no such number."))
        attempt = CallAttempt.objects.select_for_update().open_for(
            task=task, agent=agent
        ).first() or CallAttempt(task=task, agent=agent, script_version=version_for_policy(task.policy))
        if attempt.call_sid and attempt.call_status not in ("error", "agent_unanswered", "canceled"):
            raise CallRefused(_("This attempt already has a call: close it with its outcome first."))
        CallAttempt.objects.filter(task=task, call_status="initiating").exclude(pk=attempt.pk).update(
            call_status="error"
        )  # stale ones only (checked above)
        attempt.number_dialled, attempt.call_placed_at = number, now
        attempt.call_status, attempt.call_sid, attempt.telephony_backend = "initiating", "", backend.name
        try:
            with transaction.atomic():
                attempt.save()
        except IntegrityError as exc:
            raise CallRefused(_("A call for this callback is already in progress.")) from exc
        if task.attempts == 0:
            precall_notice(task=task)
    # Outside the transaction: the row already says "initiating", so a concurrent request refuses,
    # and a slow or failing Twilio holds no lock.
    try:
        sid = backend.start_call(
            CallRequest(
                agent_number=mine,
                customer_number=number,
                caller_id=settings.TELEPHONY_CALLER_ID,
                twiml_url=public_url(reverse("twilio_voice", args=[attempt.pk])),
                status_url=public_url(reverse("twilio_call_status", args=[attempt.pk, CallLeg.AGENT])),
            )
        )
    except TelephonyError as exc:
        CallAttempt.objects.filter(pk=attempt.pk, call_status="initiating").update(call_status="error")
        raise CallRefused(
            _(
                "The telephone service did not answer, so no call was placed. "
                "The callback is still yours: try again in a moment."
            )
        ) from exc
    CallAttempt.objects.filter(pk=attempt.pk).update(call_sid=sid)
    return refresh_call_state(attempt_id=attempt.pk)


def record_call_event(*, attempt: CallAttempt, leg: str, params: dict, kind: str = "status") -> bool:
    """Store one webhook (or console) event once; returns False for a duplicate. Then re-derive."""
    call_sid = params.get("CallSid", "")
    if kind == "recording":
        status = params.get("RecordingStatus", "")
        key = f"rec:{params.get('RecordingSid', '')}:{status}"
    else:
        status = params.get("CallStatus", "")
        key = f"{call_sid}:{status}:{params.get('SequenceNumber', '')}"
    sequence = params.get("SequenceNumber")
    duration = params.get("CallDuration") or params.get("RecordingDuration")
    try:
        with transaction.atomic():
            CallEvent.objects.create(
                attempt=attempt,
                key=key[:160],
                leg=leg,
                kind=kind,
                call_sid=call_sid[:64],
                status=status[:24],
                sequence=int(sequence) if str(sequence or "").isdigit() else None,
                duration_seconds=int(duration) if str(duration or "").isdigit() else None,
                payload={k: str(v)[:500] for k, v in list(params.items())[:60]},
            )
    except IntegrityError:
        return False
    if kind == "recording":
        _store_recording(attempt=attempt, params=params)
    refresh_call_state(attempt_id=attempt.pk)
    return True


REC_RANK = {
    RecordingStatus.IN_PROGRESS: 0,
    RecordingStatus.COMPLETED: 1,
    RecordingStatus.ABSENT: 1,
    RecordingStatus.FAILED: 1,
}


def _store_recording(*, attempt: CallAttempt, params: dict) -> None:
    sid = params.get("RecordingSid", "")
    status = params.get("RecordingStatus", "")
    if not sid or status not in REC_RANK:
        return
    duration = params.get("RecordingDuration", "")
    with transaction.atomic():
        recording, created = Recording.objects.select_for_update().get_or_create(
            sid=sid[:64],
            defaults={
                "attempt": attempt,
                "source": attempt.telephony_backend or "twilio",
                "status": status,
                "url": params.get("RecordingUrl", "")[:500],
                "channels": int(params.get("RecordingChannels") or 2),
            },
        )
        if recording.status == RecordingStatus.DELETED or REC_RANK[status] < REC_RANK.get(
            recording.status, 0
        ):
            return  # a late "in-progress" never hides a finished recording
        recording.status = status
        recording.url = params.get("RecordingUrl", "")[:500] or recording.url
        if str(duration).isdigit():
            recording.duration_seconds = int(duration)
        recording.save()


def _of_this_call(event: CallEvent, call_sid: str) -> bool:
    """Events of the attempt's current call: after the agent's phone went unanswered the agent may
    call again on the same attempt, and the first call's late events must not count for the second."""
    if event.kind != "status":
        return True
    if event.leg == CallLeg.AGENT:
        return event.call_sid == call_sid
    return event.payload.get("ParentCallSid", call_sid) == call_sid


@transaction.atomic
def refresh_call_state(*, attempt_id: int) -> CallAttempt:
    """Re-derive the attempt's call state from its events; close it when the customer's leg says so."""
    attempt = CallAttempt.objects.select_for_update().get(pk=attempt_id)
    events = [e for e in attempt.call_events.all() if _of_this_call(e, attempt.call_sid)]
    if not events and attempt.call_status in ("initiating", "error") and not attempt.call_sid:
        return attempt
    state = derive_state(events)
    closed = bool(attempt.outcome or attempt.ended_at)
    if closed and state in LIVE_CALL_STATUSES:
        state = "completed"  # a late event of a call already closed never makes it live again
    customer_end = [e for e in events if e.leg == CallLeg.CUSTOMER and e.status == "completed"]
    attempt.call_status = state
    if customer_end and customer_end[0].duration_seconds is not None:
        attempt.duration_seconds = customer_end[0].duration_seconds
    attempt.save(update_fields=["call_status", "duration_seconds"])
    if state in AUTO_OUTCOMES and not closed and attempt.agent_id:
        task = CallbackTask.objects.get(pk=attempt.task_id)
        try:
            outcomes.close_attempt(
                task=task,
                agent=attempt.agent,
                outcome=AUTO_OUTCOMES[state],
                number_dialled=attempt.number_dialled,
                notes=attempt.notes,
                attempt=attempt,
            )
        except (outcomes.AttemptError, queue.TaskNotHeld) as exc:
            log.warning(
                "call %s ended %s but attempt %s could not close: %s",
                attempt.call_sid,
                state,
                attempt.pk,
                exc,
            )
    return attempt


def hang_up(*, attempt: CallAttempt) -> None:
    """End a live call (the agent's button, or closing the attempt while connected)."""
    if attempt.call_status not in LIVE_CALL_STATUSES or not attempt.call_sid:
        return
    if attempt.telephony_backend == "console":
        _console_hang_up(attempt)
        return
    try:
        get_backend(attempt.telephony_backend).hang_up(attempt.call_sid)
    except TelephonyError as exc:
        raise CallRefused(_("The telephone service did not answer: hang up on your phone.")) from exc


def end_call_of_closed(*, attempt: CallAttempt) -> None:
    """The attempt was just closed while its call may still be up: hang up, and leave no live state.

    Twilio's last events arrive later and derive "completed" (a closed attempt's call is never live
    again); the row says so at once, so the task's next call is not held back by this one.
    """
    try:
        hang_up(attempt=attempt)
    except CallRefused:
        log.warning("call %s of closed attempt %s not hung up", attempt.call_sid, attempt.pk)
    CallAttempt.objects.filter(pk=attempt.pk, call_status__in=LIVE_CALL_STATUSES).update(
        call_status="completed"
    )


# ------------------------------------------------------------------------ the console's simulated course

# (seconds in steps of TELEPHONY_CONSOLE_STEP_SECONDS, leg, status); the customer's part by course.
_AGENT_STEPS = [(0, "agent", "initiated"), (0.5, "agent", "ringing"), (1.5, "agent", "in-progress")]
_CUSTOMER_STEPS = {
    "answered": [(2, "customer", "initiated"), (2.5, "customer", "ringing"), (4, "customer", "in-progress")],
    "busy": [(2, "customer", "initiated"), (3.5, "customer", "busy"), (3.6, "agent", "completed")],
    "no_answer": [
        (2, "customer", "initiated"),
        (2.5, "customer", "ringing"),
        (7, "customer", "no-answer"),
        (7.1, "agent", "completed"),
    ],
    "wrong_number": [(2, "customer", "initiated"), (3.5, "customer", "failed"), (3.6, "agent", "completed")],
}


def _console_sids(attempt: CallAttempt) -> dict[str, str]:
    return {"agent": attempt.call_sid, "customer": "CA" + attempt.call_sid[2:][::-1]}


def advance_console_call(attempt: CallAttempt, *, now: dt.datetime | None = None) -> CallAttempt:
    """Deliver the console call's events whose time has come, through `record_call_event` like Twilio's."""
    if attempt.telephony_backend != "console" or not attempt.call_sid or not attempt.call_placed_at:
        return attempt
    now = now or timezone.now()
    elapsed = (now - attempt.call_placed_at).total_seconds() / max(
        settings.TELEPHONY_CONSOLE_STEP_SECONDS, 0.01
    )
    sids = _console_sids(attempt)
    steps = _AGENT_STEPS + _CUSTOMER_STEPS[console_course(attempt.call_sid)]
    for seq, (at, leg, status) in enumerate(steps):
        if at <= elapsed:
            record_call_event(
                attempt=attempt,
                leg=leg,
                params={
                    "CallSid": sids[leg],
                    "CallStatus": status,
                    "SequenceNumber": str(seq),
                    "ParentCallSid": attempt.call_sid if leg == "customer" else "",
                },
            )
    return CallAttempt.objects.get(pk=attempt.pk)


def _console_hang_up(attempt: CallAttempt) -> None:
    attempt = advance_console_call(attempt)
    sids = _console_sids(attempt)
    answered_at = attempt.call_placed_at + dt.timedelta(seconds=4 * settings.TELEPHONY_CONSOLE_STEP_SECONDS)
    seconds = max(int((timezone.now() - answered_at).total_seconds()), 1)
    if attempt.call_status == "in-progress":
        record_call_event(
            attempt=attempt,
            leg="customer",
            params={
                "CallSid": sids["customer"],
                "CallStatus": "completed",
                "SequenceNumber": "90",
                "CallDuration": str(seconds),
            },
        )
        record_call_event(
            attempt=attempt,
            leg="customer",
            kind="recording",
            params={
                "CallSid": sids["agent"],
                "RecordingSid": "RE" + attempt.call_sid[2:],
                "RecordingStatus": "completed",
                "RecordingDuration": str(seconds),
                "RecordingChannels": "2",
            },
        )
    elif attempt.call_status == "ringing":
        record_call_event(
            attempt=attempt,
            leg="customer",
            params={"CallSid": sids["customer"], "CallStatus": "canceled", "SequenceNumber": "90"},
        )
    record_call_event(
        attempt=attempt,
        leg="agent",
        params={"CallSid": sids["agent"], "CallStatus": "completed", "SequenceNumber": "91"},
    )
