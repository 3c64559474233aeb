"""Demo step: click-to-call on the console backend, recordings of the demo calls, SMS sent and an opt-out.

Agents get a phone on their staff profile (the leg Huifang rings first); the demo calls made by the
calls step are turned into console calls with a recording a supervisor can play; one appointment
pre-call notice is sent (console backend: logged; the queue step's booked callbacks send their
confirmations), and one number opted out.
"""

from django.db import transaction
from django.test.utils import override_settings

from verification.vocab import Outcome

from ..models import CallAttempt, CallbackTask, Recording, SmsOptOut, StaffProfile
from ..models.telephony import RecordingStatus
from ..telephony import notices, opt_out

AGENT_PHONES = {"agent": "13900000001", "agent2": "13900000002"}
RECORDED = (Outcome.VERIFIED, Outcome.VERIFIED_WITH_ISSUES, Outcome.NO_ANSWER)


@transaction.atomic
def seed(users) -> None:
    for username, phone in AGENT_PHONES.items():
        StaffProfile.objects.filter(user=users[username], phone="").update(phone=phone)
    for attempt in CallAttempt.objects.filter(call_sid__startswith="demo-", outcome__in=RECORDED):
        answered = attempt.outcome != Outcome.NO_ANSWER
        seconds = 60 + 25 * len(attempt.answers) if answered else None
        CallAttempt.objects.filter(pk=attempt.pk).update(
            telephony_backend="console",
            call_status="completed" if answered else "no-answer",
            call_placed_at=attempt.started_at,
            duration_seconds=seconds,
            number_dialled=attempt.number_dialled,
        )
        if answered:
            Recording.objects.get_or_create(
                sid=f"RE{attempt.call_sid}",
                defaults={
                    "attempt": attempt,
                    "source": "console",
                    "status": RecordingStatus.COMPLETED,
                    "duration_seconds": seconds,
                    "channels": 2,
                },
            )
    # Appointment confirmations come from the queue step's booked callbacks (outcomes.close_attempt).
    task = CallbackTask.objects.filter(status="open").select_related("policy").order_by("pk").first()
    if task is not None:
        with override_settings(SMS_PRECALL_NOTICE=True):
            notices.precall_notice(task=task)
    if not SmsOptOut.objects.exists():
        opt_out(number="13700000000", keyword="退订")
