"""Click-to-call: the real `twilio` library against a fake HTTP client, signed webhooks into our views,
state derived from duplicated and out-of-order events, automatic dispositions, recordings, the
double-click guard and Twilio's faults; the console backend's course; the supervisor's player."""

import datetime as dt
import io
import threading

import pytest
import requests
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from callback.models import AuditEvent, CallAttempt, CallbackTask, CallEvent, Recording

from .factories.scripts import due_task, serving_queue
from .twilio_fake import AUTH_TOKEN, FROM_NUMBER, PUBLIC_BASE_URL, signed_post, use_twilio

HX = {"HTTP_HX_REQUEST": "true"}
AGENT_PHONE = "13900139000"


@pytest.fixture
def task(agent_user):
    queue = serving_queue(agent_user)
    agent_user.profile.phone = AGENT_PHONE
    agent_user.profile.save()
    return due_task(queue)


@pytest.fixture
def held(agent_client, task):
    assert agent_client.post(reverse("workspace_next")).status_code == 302
    task.refresh_from_db()
    assert task.holder_id is not None
    return task


@pytest.fixture
def fake(settings):
    return use_twilio(settings)


def place(client, task, **extra):
    return client.post(reverse("workspace_call", args=[task.pk]), {"which": "mobile"}, **{**HX, **extra})


def status(client, attempt, leg, call_status, seq, **params):
    path = reverse("twilio_call_status", args=[attempt.pk, leg])
    sid = attempt.call_sid if leg == "agent" else "CA" + "c" * 32
    return signed_post(
        client, path, {"CallSid": sid, "CallStatus": call_status, "SequenceNumber": str(seq), **params}
    )


def the_attempt(task) -> CallAttempt:
    return CallAttempt.objects.get(task=task)


class TestPlacingACall:
    def test_twilio_call_rings_the_agent_first_with_our_webhooks(self, agent_client, held, fake):
        response = place(agent_client, held)
        assert response.status_code == 200
        assert "Your phone is ringing" in response.content.decode()
        (created,) = fake.created("Calls")
        attempt = the_attempt(held)
        data = created["data"]
        assert data["To"] == "+8613900139000" and data["From"] == FROM_NUMBER
        assert data["Url"] == f"{PUBLIC_BASE_URL}/telephony/twilio/voice/{attempt.pk}/"
        assert data["StatusCallback"] == f"{PUBLIC_BASE_URL}/telephony/twilio/status/{attempt.pk}/agent/"
        assert "answered" in data["StatusCallbackEvent"] and "completed" in data["StatusCallbackEvent"]
        assert attempt.call_sid.startswith("CA") and attempt.call_status == "agent_ringing"
        assert attempt.number_dialled == "+8613800138000" and attempt.telephony_backend == "twilio"

    def test_twiml_bridges_to_the_customer_recording_both_channels(self, agent_client, client, held, fake):
        place(agent_client, held)
        attempt = the_attempt(held)
        response = signed_post(
            client, reverse("twilio_voice", args=[attempt.pk]), {"CallSid": attempt.call_sid}
        )
        xml = response.content.decode()
        assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")
        assert f'callerId="{FROM_NUMBER}"' in xml and 'record="record-from-answer-dual"' in xml
        assert ">+8613800138000</Number>" in xml
        assert f"{PUBLIC_BASE_URL}/telephony/twilio/recording/{attempt.pk}/" in xml

    def test_workspace_shows_the_number_masked_with_a_backend(self, agent_client, held, fake):
        page = agent_client.get(reverse("workspace")).content.decode()
        assert "138****8000" in page and "13800138000" not in page
        assert reverse("workspace_call", args=[held.pk]) in page

    def test_agent_without_a_phone_is_told_to_ask_an_admin(self, agent_client, agent_user, held, fake):
        agent_user.profile.phone = ""
        agent_user.profile.save()
        assert "no phone number" in place(agent_client, held).content.decode()
        assert fake.created("Calls") == []

    def test_second_click_places_no_second_call(self, agent_client, held, fake):
        place(agent_client, held)
        response = place(agent_client, held)
        assert "already in progress" in response.content.decode()
        assert len(fake.created("Calls")) == 1

    def test_another_agents_task_cannot_be_called(self, client, held, fake):
        from callback.roles import AGENT

        from .factories import UserFactory

        other = UserFactory(username="other", role=AGENT)
        client.force_login(other)
        assert "no longer yours" in place(client, held).content.decode()
        assert fake.created("Calls") == []

    def test_pre_call_notice_goes_once_before_the_first_call(
        self, agent_client, client, held, fake, settings, django_capture_on_commit_callbacks
    ):
        settings.SMS_PRECALL_NOTICE = True
        with django_capture_on_commit_callbacks(execute=True):
            place(agent_client, held)
        attempt = the_attempt(held)
        status(client, attempt, "agent", "no-answer", 2)
        with django_capture_on_commit_callbacks(execute=True):
            place(agent_client, held)
        (notice,) = fake.created("Messages")
        assert notice["data"]["To"] == "+8613800138000" and "P" in notice["data"]["Body"]
        assert len(fake.created("Calls")) == 2

    def test_releasing_during_a_call_hangs_up_and_keeps_the_attempt(self, agent_client, held, settings):
        settings.TELEPHONY_BACKEND = "console"
        settings.TELEPHONY_CONSOLE_ODDS = "answered:1"
        place(agent_client, held)
        CallAttempt.objects.filter(task=held).update(call_placed_at=timezone.now() - dt.timedelta(seconds=30))
        agent_client.post(reverse("workspace_release", args=[held.pk]))
        attempt = the_attempt(held)
        assert attempt.ended_at is not None and attempt.call_status == "completed"
        assert Recording.objects.filter(attempt=attempt).exists()
        held.refresh_from_db()
        assert held.holder_id is None


class TestTwilioFaults:
    @pytest.mark.parametrize("fault", [500, requests.Timeout("read timed out")])
    def test_fault_tells_the_agent_and_a_retry_works(self, agent_client, held, fake, fault):
        fake.fail_with = fault
        response = place(agent_client, held)
        assert "did not answer, so no call was placed" in response.content.decode()
        held.refresh_from_db()
        attempt = the_attempt(held)
        assert held.holder_id is not None  # still the agent's
        assert attempt.call_sid == "" and attempt.call_status == "error" and not attempt.outcome
        assert not CallEvent.objects.exists()
        fake.fail_with = None
        assert "Your phone is ringing" in place(agent_client, held).content.decode()
        assert the_attempt(held).call_sid.startswith("CA")


class TestWebhooks:
    @pytest.fixture
    def attempt(self, agent_client, held, fake):
        place(agent_client, held)
        return the_attempt(held)

    def test_unsigned_wrong_token_and_tampered_requests_are_refused(self, client, attempt, caplog):
        path = reverse("twilio_call_status", args=[attempt.pk, "customer"])
        params = {"CallSid": "CA" + "c" * 32, "CallStatus": "busy", "SequenceNumber": "3"}
        assert signed_post(client, path, params, signature="").status_code == 403
        assert signed_post(client, path, params, token="not-the-token").status_code == 403
        from twilio.request_validator import RequestValidator

        good = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_BASE_URL + path, params)
        tampered = {**params, "CallStatus": "completed"}
        assert signed_post(client, path, tampered, signature=good).status_code == 403
        assert not CallEvent.objects.exists()
        assert the_attempt(attempt.task).outcome == ""
        assert "twilio webhook" in caplog.text and "refused" in caplog.text

    def test_webhooks_need_no_csrf_token_but_the_workspace_does(self, attempt, agent_user):
        from django.test import Client

        strict = Client(enforce_csrf_checks=True)
        assert status(strict, attempt, "agent", "ringing", 1).status_code == 204
        strict.force_login(agent_user)
        assert place(strict, attempt.task).status_code == 403  # no CSRF token: refused

    def test_signed_for_the_public_address_behind_a_tls_proxy(self, client, attempt):
        # Django sees http://testserver; Twilio signed https://huifang.example.com/…: accepted.
        assert status(client, attempt, "agent", "ringing", 1).status_code == 204

    def test_duplicated_and_out_of_order_events_end_in_the_same_state(self, client, attempt):
        sequence = [
            ("agent", "initiated", 0),
            ("agent", "in-progress", 2),
            ("customer", "completed", 3, {"CallDuration": "95"}),  # arrives first
            ("agent", "ringing", 1),
            ("customer", "ringing", 1),
            ("customer", "in-progress", 2),
            ("customer", "completed", 3, {"CallDuration": "95"}),  # duplicate
            ("customer", "ringing", 1),  # duplicate, late
        ]
        for leg, call_status, seq, *extra in sequence:
            assert (
                status(client, attempt, leg, call_status, seq, **(extra[0] if extra else {})).status_code
                == 204
            )
        attempt.refresh_from_db()
        assert attempt.call_status == "completed" and attempt.duration_seconds == 95
        assert CallEvent.objects.filter(attempt=attempt).count() == 6
        assert attempt.outcome == ""  # answered: the agent closes it with the script's outcome

    def test_live_state_follows_the_events(self, client, attempt):
        status(client, attempt, "agent", "in-progress", 2)
        assert the_attempt(attempt.task).call_status == "connecting"
        status(client, attempt, "customer", "ringing", 1)
        assert the_attempt(attempt.task).call_status == "ringing"
        status(client, attempt, "customer", "in-progress", 2)
        assert the_attempt(attempt.task).call_status == "in-progress"

    @pytest.mark.parametrize(
        ("twilio_status", "outcome"),
        [("busy", "busy"), ("no-answer", "no_answer"), ("failed", "wrong_number")],
    )
    def test_customer_leg_ending_unanswered_becomes_the_disposition(
        self, client, attempt, twilio_status, outcome
    ):
        status(client, attempt, "agent", "in-progress", 2)
        status(client, attempt, "customer", twilio_status, 3)
        status(client, attempt, "customer", twilio_status, 3)  # retried webhook: nothing more happens
        attempt.refresh_from_db()
        task = CallbackTask.objects.get(pk=attempt.task_id)
        assert attempt.outcome == outcome and attempt.ended_at is not None
        assert task.holder_id is None and task.attempts == 1
        if outcome == "busy":
            assert task.next_attempt_at - attempt.ended_at == dt.timedelta(minutes=30)  # the retry rule
        if outcome == "wrong_number":
            assert "+8613800138000" in task.dead_numbers

    def test_workspace_poll_moves_on_after_an_automatic_disposition(self, agent_client, client, attempt):
        status(client, attempt, "customer", "busy", 3)
        response = agent_client.get(reverse("workspace_call_state", args=[attempt.task_id]), **HX)
        assert response["HX-Redirect"] == reverse("workspace")
        page = agent_client.get(reverse("workspace")).content.decode()
        assert "The call ended: Busy" in page

    def test_agent_not_answering_leaves_the_attempt_open(self, client, attempt, agent_client):
        status(client, attempt, "agent", "no-answer", 2)
        attempt.refresh_from_db()
        assert attempt.call_status == "agent_unanswered" and attempt.outcome == ""
        assert "Your phone is ringing" in place(agent_client, attempt.task).content.decode()

    def test_recording_callbacks_store_one_recording(self, client, attempt):
        path = reverse("twilio_recording", args=[attempt.pk])
        base = {"CallSid": attempt.call_sid, "RecordingSid": "RE" + "1" * 32, "RecordingChannels": "2"}
        done = {
            **base,
            "RecordingStatus": "completed",
            "RecordingDuration": "95",
            "RecordingUrl": "https://api.twilio.com/x/Recordings/RE1",
        }
        assert signed_post(client, path, done).status_code == 204
        assert signed_post(client, path, done).status_code == 204
        assert (
            signed_post(client, path, {**base, "RecordingStatus": "in-progress"}).status_code == 204
        )  # late
        recording = Recording.objects.get()
        assert recording.attempt_id == attempt.pk and recording.status == "completed"
        assert recording.duration_seconds == 95 and recording.channels == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_concurrent_requests_place_one_call(settings, agent_user):
    from django.test import Client

    from verification.default_scripts import install
    from verification.models import Question, Script, ScriptVersion

    if not Script.objects.exists():  # an earlier transactional test flushed the migrations' scripts
        install(Script, ScriptVersion, Question, published_at=timezone.now())
    fake = use_twilio(settings)
    queue = serving_queue(agent_user)
    agent_user.profile.phone = AGENT_PHONE
    agent_user.profile.save()
    task = due_task(queue)
    client = Client()
    client.force_login(agent_user)
    client.post(reverse("workspace_next"))
    assert CallbackTask.objects.get(pk=task.pk).holder_id == agent_user.pk
    barrier = threading.Barrier(2)
    fake.delay_hook = lambda: __import__("time").sleep(0.5)  # Twilio is slow: the second request waits
    results = []

    def click():
        from django.db import connections

        c = Client()
        c.force_login(agent_user)
        barrier.wait()
        results.append(place(c, task).content.decode())
        connections.close_all()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(fake.created("Calls")) == 1
    assert sum("already in progress" in r for r in results) == 1
    assert CallAttempt.objects.filter(task=task).count() == 1


def test_the_database_refuses_a_second_live_call_on_a_task(held, agent_user):
    from django.db import IntegrityError, transaction

    CallAttempt.objects.filter(task=held).update(call_status="ringing")
    with pytest.raises(IntegrityError), transaction.atomic():
        CallAttempt.objects.create(task=held, agent=agent_user, call_status="agent_ringing")


class TestConsoleBackend:
    @pytest.fixture(autouse=True)
    def console(self, settings):
        settings.TELEPHONY_BACKEND = "console"
        settings.TELEPHONY_CONSOLE_ODDS = "answered:1"

    def test_call_is_answered_hung_up_and_recorded_and_a_supervisor_plays_it(
        self, agent_client, held, supervisor_user
    ):
        from django.test import Client

        supervisor_client = Client()
        supervisor_client.force_login(supervisor_user)
        assert "Your phone is ringing" in place(agent_client, held).content.decode()
        CallAttempt.objects.filter(task=held).update(call_placed_at=timezone.now() - dt.timedelta(seconds=30))
        response = agent_client.get(reverse("workspace_call_state", args=[held.pk]), **HX)
        assert "the customer answered" in response.content.decode()
        agent_client.post(reverse("workspace_hang_up", args=[held.pk]), **HX)
        attempt = the_attempt(held)
        assert attempt.call_status == "completed" and attempt.duration_seconds >= 1
        recording = Recording.objects.get(attempt=attempt)
        url = reverse("recording_play", args=[recording.pk])
        assert agent_client.get(url).status_code == 403
        played = supervisor_client.get(url)
        assert played.status_code == 200 and played["Content-Type"] == "audio/wav"
        assert b"".join(played.streaming_content)[:4] == b"RIFF"
        assert AuditEvent.objects.filter(action="play_recording", object_id=str(recording.pk)).count() == 1

    @pytest.mark.parametrize(
        ("course", "outcome"),
        [("busy", "busy"), ("no_answer", "no_answer"), ("wrong_number", "wrong_number")],
    )
    def test_courses_end_in_their_disposition(self, settings, agent_client, held, course, outcome):
        settings.TELEPHONY_CONSOLE_ODDS = f"{course}:1"
        place(agent_client, held)
        CallAttempt.objects.filter(task=held).update(call_placed_at=timezone.now() - dt.timedelta(seconds=60))
        response = agent_client.get(reverse("workspace_call_state", args=[held.pk]), **HX)
        assert response["HX-Redirect"] == reverse("workspace")
        assert the_attempt(held).outcome == outcome

    def test_odds_setting_is_read_leniently(self, settings):
        from callback.telephony.backends import console_odds

        settings.TELEPHONY_CONSOLE_ODDS = "answered:3, busy:x, nonsense:5,no_answer:1"
        assert console_odds() == {"answered": 3, "no_answer": 1}
        settings.TELEPHONY_CONSOLE_ODDS = ""
        assert console_odds() == {"answered": 1}


def test_twilio_recording_is_proxied_with_the_account_credentials(settings, supervisor_user, held):
    """The media request goes to Twilio with the account's auth through a fake transport adapter."""
    from django.test import Client

    supervisor_client = Client()
    supervisor_client.force_login(supervisor_user)
    use_twilio(settings)
    seen = []

    class FakeMedia(requests.adapters.BaseAdapter):
        def send(self, request, **kwargs):
            seen.append(request)
            response = requests.Response()
            response.status_code, response.raw = 200, io.BytesIO(b"RIFF....WAVEfmt ")
            response.headers["Content-Type"] = "audio/x-wav"
            response.request = request
            return response

        def close(self):
            pass

    session = requests.Session()
    session.mount("https://", FakeMedia())
    settings.TWILIO_MEDIA_SESSION = session
    attempt = CallAttempt.objects.get(task=held)
    recording = Recording.objects.create(
        attempt=attempt, sid="RE" + "2" * 32, source="twilio", duration_seconds=40
    )
    played = supervisor_client.get(reverse("recording_play", args=[recording.pk]))
    assert played.status_code == 200
    assert b"".join(played.streaming_content).startswith(b"RIFF")
    assert seen[0].url.endswith(f"/Recordings/{recording.sid}.wav")
    assert seen[0].headers["Authorization"].startswith("Basic ")
    session.mount("https://", FakeMedia())
    recording.status = "deleted"
    recording.save()
    assert supervisor_client.get(reverse("recording_play", args=[recording.pk])).status_code == 404
