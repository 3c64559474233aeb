"""The softphone / CTI API: token auth, agents only, claim → heartbeat → attempt, clear errors."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from callback.models import CallAttempt, CallbackTask, TaskStatus
from callback.schedule import CallingHours, start_of_day

from .factories.queue import agent_in, open_task, queue, supervisor  # noqa: F401
from .factories.scripts import passing_answers

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def q():
    # Open round the clock so the API (which uses the real clock) always serves.
    from datetime import time

    return queue(
        "api",
        weekday_start=time(0, 0),
        weekday_end=time(23, 59, 59),
        weekend_start=time(0, 0),
        weekend_end=time(23, 59, 59),
    )


@pytest.fixture
def due_task(q):
    task = open_task(q, receipt=timezone.localdate() - dt.timedelta(days=2), mobile="13912345678")
    task.next_attempt_at = timezone.now() - dt.timedelta(minutes=1)
    task.save()
    return task


def test_claim_returns_masked_summary_then_204_when_nothing_due(agent, due_task):
    client = _client(agent)
    response = client.post("/api/v1/queue/next")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == due_task.pk and body["policy"]["policy_no"] == due_task.policy.policy_no
    assert body["policy"]["applicant"]["mobile_masked"] == "139****5678"
    assert "13912345678" not in response.content.decode()
    other = agent_in(due_task.queue, "wang")
    assert _client(other).post("/api/v1/queue/next").status_code == 204


def test_heartbeat_release_and_conflicts(agent, due_task):
    client = _client(agent)
    client.post("/api/v1/queue/next")
    assert client.post(f"/api/v1/tasks/{due_task.pk}/heartbeat").status_code == 200
    other = _client(agent_in(due_task.queue, "wang"))
    response = other.post(f"/api/v1/tasks/{due_task.pk}/heartbeat")
    assert response.status_code == 409 and response.json()["detail"]
    assert other.post(f"/api/v1/tasks/{due_task.pk}/release").status_code == 409
    assert client.post(f"/api/v1/tasks/{due_task.pk}/release").status_code == 200
    assert CallbackTask.objects.get(pk=due_task.pk).holder is None
    assert client.post("/api/v1/tasks/999999/heartbeat").status_code == 404


def test_attempt_returns_next_state(agent, due_task):
    client = _client(agent)
    client.post("/api/v1/queue/next")
    response = client.post(
        f"/api/v1/tasks/{due_task.pk}/attempts",
        {"outcome": "busy", "number_dialled": "13912345678"},
        format="json",
    )
    assert response.status_code == 201
    task = response.json()["task"]
    assert task["status"] == "open" and task["attempts"] == 1 and task["next_attempt_at"]
    # The agent no longer holds it: a second attempt without claiming again is a conflict.
    again = client.post(f"/api/v1/tasks/{due_task.pk}/attempts", {"outcome": "verified"}, format="json")
    assert again.status_code == 409


def test_verified_closes_the_task_with_the_script_answers(agent, due_task):
    client = _client(agent)
    client.post("/api/v1/queue/next")
    answers = passing_answers(due_task)
    response = client.post(
        f"/api/v1/tasks/{due_task.pk}/attempts", {"outcome": "verified", "answers": answers}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["task"]["status"] == TaskStatus.COMPLETED
    attempt = CallAttempt.objects.get(task=due_task)
    assert attempt.script_version is not None
    assert [a["key"] for a in attempt.answers] == list(answers) and all(a["passed"] for a in attempt.answers)
    assert "081436" not in str(attempt.answers)  # identity stored as match / mismatch only


@pytest.mark.parametrize(
    ("outcome", "overrides", "message"),
    [
        ("verified", None, "identity"),  # no answers at all: the attack of the security review
        ("verified_with_issues", None, "identity"),
        ("verified", {"identity": {"birth_date": "1999-01-01", "id_last6": "000000"}}, "script ended"),
        ("verified", {"premium_understood": "no", "premium_understood_explained": "no"}, "failed"),
        ("verified", {"no_such_question": "yes"}, "no question"),
        ("verified", {"identity": {"birth_date": 19600908, "id_last6": ["x"]}}, "identity"),
    ],
)
def test_verified_without_the_script_is_refused(agent, due_task, outcome, overrides, message):
    client = _client(agent)
    client.post("/api/v1/queue/next")
    payload = {"outcome": outcome}
    if overrides is not None:
        payload["answers"] = passing_answers(due_task)
        payload["answers"].update(overrides)
    response = client.post(f"/api/v1/tasks/{due_task.pk}/attempts", payload, format="json")
    assert response.status_code == 400, response.json()
    assert message in response.json()["errors"]["answers"][0].lower()
    task = CallbackTask.objects.get(pk=due_task.pk)
    assert (task.status, task.holder, task.attempts) == (TaskStatus.OPEN, agent, 0)
    assert not CallAttempt.objects.filter(task=due_task).exclude(outcome="").exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"outcome": "maybe"}, "outcome"),
        ({}, "outcome"),
        ({"outcome": "callback_requested"}, "appointment_at"),
        ({"outcome": "callback_requested", "appointment_at": "not a time"}, "appointment_at"),
        ({"outcome": "callback_requested", "appointment_at": "2020-01-01T10:00:00+08:00"}, "appointment_at"),
    ],
)
def test_bad_input_gets_400_with_field_messages(agent, due_task, payload, field):
    client = _client(agent)
    client.post("/api/v1/queue/next")
    response = client.post(f"/api/v1/tasks/{due_task.pk}/attempts", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert CallbackTask.objects.get(pk=due_task.pk).attempts == 0


def test_appointment_through_api(agent, due_task):
    client = _client(agent)
    client.post("/api/v1/queue/next")
    hours = CallingHours()
    when = hours.next_open(start_of_day(timezone.localdate() + dt.timedelta(days=1)) + dt.timedelta(hours=10))
    response = client.post(
        f"/api/v1/tasks/{due_task.pk}/attempts",
        {"outcome": "callback_requested", "appointment_at": when.isoformat()},
        format="json",
    )
    if when >= due_task.deadline:  # pragma: no cover - only near a window's end
        assert response.status_code == 400
        return
    assert response.status_code == 201
    assert response.json()["task"]["appointment_at"]


def test_only_agents_and_token_required(due_task):
    assert APIClient().post("/api/v1/queue/next").status_code in (401, 403)
    assert _client(supervisor()).post("/api/v1/queue/next").status_code == 403


def test_schema_has_queue_endpoints_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for endpoint in (
        "/api/v1/queue/next",
        "/api/v1/tasks/{id}/heartbeat",
        "/api/v1/tasks/{id}/release",
        "/api/v1/tasks/{id}/attempts",
    ):
        assert endpoint in text
