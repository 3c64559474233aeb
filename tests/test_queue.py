"""Claiming: order, ownership of appointments, calling hours, leases, never two holders."""

import datetime as dt
import threading

import pytest
from django.db import connection

from callback.models import CallbackTask, Holiday
from callback.queue import claim_next_task, release_task, renew_lease
from callback.sweep import sweep

from .factories.queue import NOW, agent_in, at, open_task, queue  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent2(q):
    return agent_in(q, "wang")


def test_most_urgent_first_then_fewest_attempts_then_oldest(q, agent, agent2):
    later = open_task(q, receipt=dt.date(2026, 3, 2))
    tried = open_task(q, receipt=dt.date(2026, 3, 1), attempts=2)
    fresh = open_task(q, receipt=dt.date(2026, 3, 1))
    assert claim_next_task(agent=agent, now=NOW) == fresh
    assert claim_next_task(agent=agent2, now=NOW) == tried
    release_task(task=fresh, agent=agent, now=NOW)
    assert claim_next_task(agent=agent, now=NOW) == fresh
    assert later.pk not in CallbackTask.objects.filter(holder__isnull=False).values_list("pk", flat=True)


def test_agent_gets_back_the_task_they_hold(q, agent):
    first = open_task(q)
    open_task(q)
    assert claim_next_task(agent=agent, now=NOW) == first
    assert claim_next_task(agent=agent, now=NOW + dt.timedelta(minutes=1)) == first


def test_never_a_task_another_agent_holds(q, agent, agent2):
    task = open_task(q)
    assert claim_next_task(agent=agent, now=NOW) == task
    assert claim_next_task(agent=agent2, now=NOW) is None


def test_not_before_next_attempt_time_nor_after_window_closed(q, agent):
    open_task(q, next_attempt_at=NOW + dt.timedelta(minutes=5))
    open_task(q, receipt=dt.date(2026, 2, 10))  # window ended 25 Feb
    assert claim_next_task(agent=agent, now=NOW) is None
    assert claim_next_task(agent=agent, now=NOW + dt.timedelta(minutes=5)) is not None


def test_only_the_agents_queues(q, agent):
    other = queue("other", is_default=False)
    open_task(other)
    assert claim_next_task(agent=agent, now=NOW) is None
    outsider = agent_in(other, "zhao")
    assert claim_next_task(agent=outsider, now=NOW) is not None


@pytest.mark.parametrize(
    ("moment", "served"),
    [
        (at(2026, 3, 4, 8, 59), False),
        (at(2026, 3, 4, 9, 0), True),
        (at(2026, 3, 4, 20, 29), True),
        (at(2026, 3, 4, 20, 30), False),
        (at(2026, 3, 7, 16, 59), True),
        (at(2026, 3, 7, 17, 0), False),
    ],
)
def test_calling_hours_edges(q, agent, moment, served):
    open_task(q)
    assert (claim_next_task(agent=agent, now=moment) is not None) is served


def test_nothing_on_a_holiday(q, agent):
    Holiday.objects.create(date=dt.date(2026, 3, 4), name="测试假日")
    open_task(q)
    assert claim_next_task(agent=agent, now=NOW) is None


def test_queue_hours_in_its_own_time_zone(agent, q):
    q.timezone = "Asia/Urumqi"  # two hours behind Beijing
    q.save()
    open_task(q)
    assert claim_next_task(agent=agent, now=at(2026, 3, 4, 10, 30)) is None  # 08:30 in Urumqi
    assert claim_next_task(agent=agent, now=at(2026, 3, 4, 11, 0)) is not None


def test_own_appointment_first_then_open_appointments(q, agent, agent2):
    urgent = open_task(q, receipt=dt.date(2026, 2, 20))
    mine = open_task(
        q, appointment_at=NOW - dt.timedelta(minutes=1), next_attempt_at=NOW - dt.timedelta(minutes=1)
    )
    mine.appointment_agent = agent
    mine.save()
    nobody = open_task(
        q, appointment_at=NOW - dt.timedelta(minutes=2), next_attempt_at=NOW - dt.timedelta(minutes=2)
    )
    assert claim_next_task(agent=agent2, now=NOW) == nobody  # an appointment open to anyone beats urgency
    assert claim_next_task(agent=agent, now=NOW) == mine
    third = agent_in(q, "zhang")
    assert claim_next_task(agent=third, now=NOW) == urgent


def test_appointment_waits_for_its_agent_during_grace_then_falls_back(q, agent, agent2):
    due = NOW - dt.timedelta(minutes=5)
    task = open_task(q, appointment_at=due, next_attempt_at=due)
    task.appointment_agent = agent
    task.save()
    assert claim_next_task(agent=agent2, now=NOW) is None
    assert claim_next_task(agent=agent2, now=due + dt.timedelta(minutes=15)) == task


def test_appointment_of_an_agent_who_left_is_open_to_anyone(q, agent, agent2):
    task = open_task(q, appointment_at=NOW, next_attempt_at=NOW)
    task.appointment_agent = agent
    task.save()
    agent.is_active = False
    agent.save()
    assert claim_next_task(agent=agent2, now=NOW) == task


def test_future_appointment_is_not_served_early(q, agent):
    task = open_task(
        q, appointment_at=NOW + dt.timedelta(hours=9), next_attempt_at=NOW + dt.timedelta(hours=9)
    )
    task.appointment_agent = agent
    task.save()
    assert claim_next_task(agent=agent, now=NOW) is None


def test_lease_expiry_returns_task_to_queue(q, agent, agent2):
    task = open_task(q)
    claim_next_task(agent=agent, now=NOW)
    assert claim_next_task(agent=agent2, now=NOW + dt.timedelta(minutes=14)) is None
    assert claim_next_task(agent=agent2, now=NOW + dt.timedelta(minutes=15)) == task  # without a sweep
    assert renew_lease(task=task, agent=agent, now=NOW + dt.timedelta(minutes=16)) is False


def test_heartbeat_keeps_the_lease(q, agent, agent2):
    task = open_task(q)
    claim_next_task(agent=agent, now=NOW)
    assert renew_lease(task=task, agent=agent, now=NOW + dt.timedelta(minutes=10))
    assert claim_next_task(agent=agent2, now=NOW + dt.timedelta(minutes=20)) is None
    assert release_task(task=task, agent=agent2) is False
    assert release_task(task=task, agent=agent)
    assert claim_next_task(agent=agent2, now=NOW + dt.timedelta(minutes=20)) == task


def test_sweep_expires_lapsed_lease(q, agent):
    task = open_task(q)
    claim_next_task(agent=agent, now=NOW)
    assert sweep(now=NOW + dt.timedelta(minutes=15)).leases_expired == 1
    task.refresh_from_db()
    assert task.holder is None


@pytest.mark.django_db(transaction=True)
def test_twenty_threads_claim_every_task_exactly_once():
    if connection.vendor != "postgresql":
        pytest.skip(
            "SKIP LOCKED concurrency needs PostgreSQL; SQLite serialises writers (IMMEDIATE transactions)"
        )
    from django.db import connections

    q = queue("race")
    agents = [agent_in(q, f"racer{i}") for i in range(20)]
    tasks = [open_task(q) for _ in range(200)]
    claimed: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work(agent):
        try:
            while True:
                task = claim_next_task(agent=agent, now=NOW)
                if task is None:
                    return
                # Work done: close the task so the agent moves on.
                CallbackTask.objects.filter(pk=task.pk).update(status="completed", holder=None)
                with lock:
                    claimed.append(task.pk)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(a,)) for a in agents]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sorted(claimed) == sorted(t.pk for t in tasks)


def test_dashboard_shows_live_queue_and_refreshes(client, q, agent):
    from callback.roles import SUPERVISOR

    from .factories import UserFactory

    boss = UserFactory(username="boss", role=SUPERVISOR)
    client.force_login(boss)
    from django.utils import timezone

    task = open_task(
        q, receipt=timezone.localdate(), next_attempt_at=timezone.now() - dt.timedelta(minutes=1)
    )
    CallbackTask.objects.filter(pk=task.pk).update(
        holder=agent, lease_expires_at=timezone.now() + dt.timedelta(minutes=9)
    )
    page = client.get("/queue/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'hx-trigger="every 30s"' in html and task.policy.policy_no in html and q.name in html
    partial = client.get("/queue/", HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and "<html" not in partial.content.decode()


def test_agents_cannot_see_supervisor_pages(client, agent):
    client.force_login(agent)
    assert client.get("/queue/").status_code == 403
    assert client.get("/tasks/").status_code == 403


def test_task_list_filters_masks_and_review_actions(client, q, agent):
    from callback.models import AuditEvent
    from callback.outcomes import close_attempt
    from callback.roles import SUPERVISOR

    from .factories import UserFactory

    boss = UserFactory(username="boss", role=SUPERVISOR)
    client.force_login(boss)
    refused = open_task(q, mobile="13912345678")
    close_attempt(task=refused, agent=agent, outcome="refused", now=NOW)
    other = open_task(q)
    page = client.get("/tasks/", {"status": "review"})
    html = page.content.decode()
    assert refused.policy.policy_no in html and other.policy.policy_no not in html
    assert "139****5678" in html and "13912345678" not in html and "陈*" in html
    assert AuditEvent.objects.filter(action="view_task_list", user=boss).exists()
    assert client.get("/tasks/", {"status": "bogus", "page": "x"}).status_code == 200
    response = client.post(f"/tasks/{refused.pk}/review/", {"decision": "failed", "note": ""})
    assert response.status_code == 302
    refused.refresh_from_db()
    assert refused.status == "review"  # a failure needs a note
    client.post(
        f"/tasks/{refused.pk}/review/",
        {"decision": "failed", "note": "客户否认投保", "next": "//evil.example"},
    )
    refused.refresh_from_db()
    assert (refused.status, refused.review_note) == ("failed", "客户否认投保")
    assert client.post(f"/tasks/{other.pk}/review/", {"decision": "verified"}).status_code == 302
    other.refresh_from_db()
    assert other.status == "open"


def test_demo_queue_step_is_idempotent_and_realistic(settings):
    from django.db.models import Count

    from callback import demo
    from callback.demo import policies as demo_policies
    from callback.demo import queue as demo_queue
    from callback.models import CallAttempt, ContactFlag, Queue

    settings.DEBUG = True
    users = demo.seed_users()
    demo_policies.seed(users)

    def counts():
        return (
            sorted(CallbackTask.objects.values_list("status").annotate(n=Count("pk"))),
            CallAttempt.objects.count(),
            ContactFlag.objects.filter(code="callback_unreachable").count(),
            Queue.objects.count(),
            Holiday.objects.count(),
        )

    demo_queue.seed(users)
    first = counts()
    demo_queue.seed(users)
    assert counts() == first
    statuses = dict(first[0])
    assert statuses["open"] > 20 and statuses["review"] == 2 and statuses["expired"] >= 2
    assert first[2] >= 2 and first[3] == 3
    assert CallbackTask.objects.filter(appointment_agent=users["agent"]).count() >= 1
    assert CallbackTask.objects.filter(holder=users["agent2"]).count() == 1


def test_claim_order_matches_the_order_the_simulation_uses(q):
    """bench/queue_sim.py sorts with due_order_key: the SQL must serve tasks in that very order."""
    from callback.queue import due_order_key

    agents = [agent_in(q, f"a{i}") for i in range(6)]
    tasks = [
        open_task(q, receipt=dt.date(2026, 3, 2), attempts=1),
        open_task(q, receipt=dt.date(2026, 3, 1), attempts=2),
        open_task(q, receipt=dt.date(2026, 3, 2), attempts=0),
        open_task(q, receipt=dt.date(2026, 3, 1), attempts=2),
        open_task(q, receipt=dt.date(2026, 2, 25), attempts=5),
        open_task(q, receipt=dt.date(2026, 3, 3), attempts=0),
    ]
    expected = sorted(
        tasks, key=lambda t: due_order_key(deadline=t.deadline, attempts=t.attempts, created_at=t.created_at)
    )
    served = [claim_next_task(agent=a, now=NOW) for a in agents]
    assert [t.pk for t in served] == [t.pk for t in expected]


@pytest.mark.parametrize("prepared", [True, False], ids=["prepared", "plain"])
def test_claimed_task_is_the_full_model_with_its_lease(q, agent, settings, prepared):
    settings.QUEUE_PREPARED_CLAIM = prepared  # off behind PgBouncer < 1.21 (docs/queue.md)
    task = open_task(q, mobile="13800138000")
    CallbackTask.objects.filter(pk=task.pk).update(dead_numbers=["+8613900000000"])
    claimed = claim_next_task(agent=agent, now=NOW)
    assert claimed.pk == task.pk and claimed.policy_id == task.policy_id and claimed.queue_id == q.pk
    assert claimed.dead_numbers == ["+8613900000000"]
    assert claimed.holder == agent and claimed.lease_expires_at == NOW + dt.timedelta(minutes=15)
    assert claimed.deadline == task.deadline and claimed.window_start == task.window_start
