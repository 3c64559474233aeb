"""Recordings and the SMS Huifang sends by itself: a CTI's recording reference through the API,
retention (deleted at Twilio and marked), players on the supervisor pages, the appointment
confirmation and the pre-call notice."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from callback.models import CallAttempt, Recording, SmsMessage
from callback.telephony.recordings import delete_expired_recordings
from verification.vocab import Outcome

from .factories.queue import agent_in, open_task, queue
from .test_queue_api import _client
from .twilio_fake import use_twilio


@pytest.fixture
def due(db):
    q = queue(
        "api",
        weekday_start=dt.time(0, 0),
        weekday_end=dt.time(23, 59, 59),
        weekend_start=dt.time(0, 0),
        weekend_end=dt.time(23, 59, 59),
    )
    task = open_task(q, receipt=timezone.localdate() - dt.timedelta(days=2), mobile="13912345678")
    task.next_attempt_at = timezone.now() - dt.timedelta(minutes=1)
    task.save()
    return task, agent_in(q, "li")


def test_api_attempt_keeps_the_ctis_recording(due):
    task, agent = due
    client = _client(agent)
    client.post("/api/v1/queue/next")
    body = {
        "outcome": "no_answer",
        "recording": {
            "sid": "cti-2026-0001",
            "url": "https://cti.example.com/r/1.wav",
            "duration_seconds": 42,
        },
    }
    response = client.post(f"/api/v1/tasks/{task.pk}/attempts", body, format="json")
    assert response.status_code == 201, response.content
    recording = Recording.objects.get()
    assert recording.sid == "cti-2026-0001" and recording.source == "cti" and recording.duration_seconds == 42
    assert recording.attempt_id == response.json()["attempt_id"]


def test_api_refuses_a_recording_kept_with_another_attempt_and_writes_nothing(due):
    task, agent = due
    client = _client(agent)
    client.post("/api/v1/queue/next")
    other = CallAttempt.objects.create(task=task, agent=agent, outcome="busy", ended_at=timezone.now())
    Recording.objects.create(attempt=other, sid="cti-dup", source="cti")
    response = client.post(
        f"/api/v1/tasks/{task.pk}/attempts",
        {"outcome": "busy", "recording": {"sid": "cti-dup"}},
        format="json",
    )
    assert response.status_code == 400 and "recording" in response.json()["errors"]
    assert CallAttempt.objects.filter(task=task).count() == 1  # the attempt was rolled back with it
    bad = client.post(
        f"/api/v1/tasks/{task.pk}/attempts",
        {"outcome": "busy", "recording": {"sid": "x\x00y"}},
        format="json",
    )
    assert bad.status_code == 400


def test_retention_deletes_at_twilio_and_marks(settings, due):
    task, agent = due
    fake = use_twilio(settings)
    settings.RECORDING_RETENTION_DAYS = 30
    attempt = CallAttempt.objects.create(task=task, agent=agent)
    old = Recording.objects.create(
        attempt=attempt, sid="RE" + "a" * 32, source="twilio", url="https://api.twilio.com/x"
    )
    fresh = Recording.objects.create(attempt=attempt, sid="RE" + "b" * 32, source="twilio")
    Recording.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=31))
    assert delete_expired_recordings() == 1
    assert [r["method"] for r in fake.requests] == ["DELETE"] and fake.requests[0]["uri"].endswith(
        f"/Recordings/{old.sid}.json"
    )
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == "deleted" and old.deleted_at and old.url == "" and fresh.status == "completed"
    assert delete_expired_recordings() == 0  # a second run does nothing


def test_retention_keeps_a_recording_twilio_failed_to_delete(settings, due):
    task, agent = due
    fake = use_twilio(settings)
    fake.fail_with = 503
    settings.RECORDING_RETENTION_DAYS = 30
    attempt = CallAttempt.objects.create(task=task, agent=agent)
    old = Recording.objects.create(attempt=attempt, sid="RE" + "c" * 32)
    Recording.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=31))
    assert delete_expired_recordings() == 0
    old.refresh_from_db()
    assert old.status == "completed"


def test_supervisor_pages_show_players(client, due, supervisor_user):
    task, agent = due
    attempt = CallAttempt.objects.create(
        task=task, agent=agent, outcome="verified_with_issues", ended_at=timezone.now()
    )
    task.status = "review"
    task.save()
    recording = Recording.objects.create(
        attempt=attempt, sid="REconsole1", source="console", duration_seconds=30
    )
    play = reverse("recording_play", args=[recording.pk])
    client.force_login(supervisor_user)
    assert play in client.get(reverse("attempt_list")).content.decode()
    assert play in client.get(reverse("policy_detail", args=[task.policy.policy_no])).content.decode()
    assert play in client.get(reverse("task_list") + "?status=review").content.decode()


def test_booking_a_callback_time_sends_one_confirmation(settings, due, django_capture_on_commit_callbacks):
    task, agent = due
    fake = use_twilio(settings)
    client = _client(agent)
    client.post("/api/v1/queue/next")
    at = timezone.localtime() + dt.timedelta(days=1)
    at = at.replace(hour=15, minute=0, second=0, microsecond=0)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/tasks/{task.pk}/attempts",
            {"outcome": Outcome.CALLBACK_REQUESTED, "appointment_at": at.isoformat()},
            format="json",
        )
    assert response.status_code == 201, response.content
    message = SmsMessage.objects.get()
    assert message.template == "callback_confirmation" and message.to == "+8613912345678"
    assert at.strftime("%m月%d日 15:00") in message.body and message.status == "sent"
    assert len(fake.created("Messages")) == 1
