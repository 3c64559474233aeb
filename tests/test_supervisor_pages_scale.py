"""Supervisor pages at a large insurer's scale (bench/pages.py measures them on a million tasks):
the fast figures equal plain counts, long lists say "about N", and no list page grows its queries
with its rows."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from callback import paging, supervision
from callback.models import CallAttempt, CallbackTask, ImportRun, TaskStatus

from .factories.flags import flagged_policy
from .factories.queue import agent_in, open_task, queue, supervisor

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss_client(client):
    client.force_login(supervisor("boss"))
    return client


def _in_status(q, status: str, *, closed_days_ago: int | None = None) -> CallbackTask:
    task = open_task(q)
    closed_at = timezone.now() - dt.timedelta(days=closed_days_ago) if closed_days_ago is not None else None
    CallbackTask.objects.filter(pk=task.pk).update(status=status, closed_at=closed_at)
    return task


def _live_queue_tasks():
    """Tasks in every state the live queue counts, in two queues and none, around now."""
    now = timezone.now()
    today = timezone.localdate()
    main, other = queue("main"), queue("other", is_default=False)
    agent = agent_in(main, "li")
    made = []
    for q in (main, other, None):
        made += [
            open_task(q, receipt=today - dt.timedelta(days=3)),  # due now
            open_task(q, receipt=today - dt.timedelta(days=3), next_attempt_at=now - dt.timedelta(hours=30)),
            open_task(q, receipt=today - dt.timedelta(days=14)),  # window closes within 2 days
            open_task(q, receipt=today - dt.timedelta(days=1), next_attempt_at=now + dt.timedelta(hours=2)),
            open_task(q, receipt=today - dt.timedelta(days=20)),  # window closed, not yet swept
            open_task(q, receipt=today, appointment_at=now + dt.timedelta(hours=3)),
            open_task(q, receipt=today, holder=agent, lease_expires_at=now + dt.timedelta(minutes=9)),
            open_task(q, receipt=today, holder=agent, lease_expires_at=now - dt.timedelta(minutes=1)),
            _in_status(q, TaskStatus.AWAITING_RECEIPT),
            _in_status(q, TaskStatus.REVIEW),
            _in_status(q, TaskStatus.FAILED, closed_days_ago=2),
            _in_status(q, TaskStatus.EXPIRED, closed_days_ago=3),
            _in_status(q, TaskStatus.EXPIRED, closed_days_ago=30),
            _in_status(q, TaskStatus.COMPLETED, closed_days_ago=1),
        ]
    return main, other, made


def _plain_counts(now: dt.datetime, queue_id=...) -> dict[str, int]:
    """The live queue's figures as plain counts, one query each (what the page showed before)."""
    tasks = CallbackTask.objects.all() if queue_id is ... else CallbackTask.objects.filter(queue_id=queue_id)
    end_of_today = timezone.localtime(now).replace(hour=23, minute=59, second=59)
    due = tasks.filter(status="open", next_attempt_at__lte=now, deadline__gt=now).filter(
        Q(holder__isnull=True) | Q(lease_expires_at__lte=now)
    )
    week_ago = now - dt.timedelta(days=7)
    return {
        "open": tasks.filter(status="open").count(),
        "due_now": due.count(),
        "due_today": tasks.filter(status="open", next_attempt_at__lte=end_of_today, deadline__gt=now).count(),
        "overdue": due.filter(next_attempt_at__lte=now - dt.timedelta(hours=24)).count(),
        "held": tasks.filter(holder__isnull=False, lease_expires_at__gt=now).count(),
        "appointments": tasks.filter(status="open", appointment_at__isnull=False).count(),
        "closing_soon": tasks.filter(
            status="open", deadline__gt=now, deadline__lte=now + dt.timedelta(days=2)
        ).count(),
        "awaiting_receipt": tasks.filter(status="awaiting_receipt").count(),
        "needs_contact": tasks.filter(status="needs_contact").count(),
        "review": tasks.filter(status="review").count(),
        "failed_recent": tasks.filter(status="failed", closed_at__gte=week_ago).count(),
        "expired_recent": tasks.filter(status="expired", closed_at__gte=week_ago).count(),
    }


def test_live_queue_figures_from_one_pass_equal_plain_counts():
    main, other, _ = _live_queue_tasks()
    now = timezone.now()
    board = supervision.dashboard(now=now)
    plain = _plain_counts(now)
    for key in supervision._TOTALS:
        assert getattr(board, key) == plain[key], key
    assert plain["due_now"] and plain["overdue"] and plain["closing_soon"] and plain["failed_recent"]
    assert board.held_now == plain["held"]
    end_of_tomorrow = timezone.localtime(now).replace(hour=23, minute=59, second=59) + dt.timedelta(days=1)
    assert (
        board.appointments_soon
        == CallbackTask.objects.filter(
            status="open", appointment_at__isnull=False, appointment_at__lte=end_of_tomorrow
        ).count()
    )
    rows = {row.queue.code: row for row in board.queues}
    for q in (main, other):
        per_queue = _plain_counts(now, q.pk)
        for field, key in supervision._PER_QUEUE.items():
            assert getattr(rows[q.code], field) == per_queue[key], (q.code, field)


def test_live_queue_page_shows_the_same_numbers_as_the_task_list_counts(boss_client):
    _live_queue_tasks()
    board = boss_client.get(reverse("dashboard")).context["board"]
    for when, figure in [
        ("due", board.due_now),
        ("today", board.due_today),
        ("overdue", board.overdue),
        ("closing", board.closing_soon),
    ]:
        page = boss_client.get(reverse("task_list"), {"when": when}).context["page"]
        assert page.paginator.count == figure, when


def test_live_queue_is_read_once_for_every_supervisor_for_a_few_seconds(client):
    main, _, _ = _live_queue_tasks()
    first = supervision.live_dashboard()
    open_task(main, receipt=timezone.localdate() - dt.timedelta(days=3))
    # A second supervisor within the cache's lifetime sees the same figures, read at the same time…
    client.force_login(supervisor("other-boss"))
    with CaptureQueriesContext(connection) as ctx:
        board = client.get(reverse("dashboard")).context["board"]
    assert (board.now, board.due_now) == (first.now, first.due_now)
    assert not [q for q in ctx.captured_queries if "callback_callbacktask" in q["sql"]]
    # … and once it lapses, the new task counts.
    cache.delete(supervision.DASHBOARD_CACHE_KEY)
    assert supervision.live_dashboard().due_now == first.due_now + 1


def test_the_job_computes_the_live_queue_so_no_supervisor_waits_for_it(client):
    main, _, _ = _live_queue_tasks()
    cache.delete(supervision.DASHBOARD_CACHE_KEY)
    supervision.refresh_live_dashboard()
    client.force_login(supervisor("job-boss"))
    with CaptureQueriesContext(connection) as ctx:
        before = client.get(reverse("dashboard")).context["board"]
    assert not [q for q in ctx.captured_queries if "callback_callbacktask" in q["sql"]]
    open_task(main, receipt=timezone.localdate() - dt.timedelta(days=3))
    supervision.refresh_live_dashboard()  # the job's next run
    after = client.get(reverse("dashboard")).context["board"]
    assert after.due_now == before.due_now + 1


@pytest.mark.parametrize("when", ["", "due", "today", "overdue", "closing", "held", "appointments"])
def test_capped_count_equals_plain_count_below_the_threshold(when):
    _live_queue_tasks()
    tasks = supervision.task_list(when=when)
    assert paging.count_rows(tasks) == paging.RowCount(tasks.count(), True)


def test_long_lists_say_about_n_beyond_the_threshold(boss_client, monkeypatch):
    main = queue("main")
    agent = agent_in(main, "li")
    for _ in range(6):
        task = open_task(main)
        CallAttempt.objects.create(task=task, agent=agent, outcome="no_answer", ended_at=timezone.now())
        flagged_policy()
    monkeypatch.setattr(paging, "EXACT_UP_TO", 4)
    for name, noun in [("task_list", "tasks"), ("attempt_list", "calls")]:
        response = boss_client.get(reverse(name))
        page = response.context["page"]
        assert not page.paginator.total.exact and page.paginator.total.n >= 5, name
        assert page.paginator.count == 4 and page.paginator.num_pages == 1, name  # pages reach the 4th row
        assert f"About {page.paginator.total.grouped} {noun}: more than 4" in response.content.decode(), name
    # The flag list knows its exact size from its counts by status.
    response = boss_client.get(reverse("flag_list"))
    page = response.context["page"]
    assert page.paginator.total == paging.RowCount(6, True) and page.paginator.count == 4
    assert "6 flags: the pages show the first 4" in response.content.decode()
    response = boss_client.get(reverse("flag_list"), {"status": "waived"})
    assert response.context["page"].paginator.total == paging.RowCount(0, True)
    monkeypatch.setattr(paging, "EXACT_UP_TO", 6)
    response = boss_client.get(reverse("task_list"))
    assert response.context["page"].paginator.total == paging.RowCount(6, True)
    assert "6 tasks" in response.content.decode() and "About" not in response.content.decode()


def test_about_n_is_rounded_to_the_precision_it_has():
    assert [paging.round_about(n) for n in (7, 99, 123, 10_001, 987_654, 1_234_567)] == [
        7,
        99,
        120,
        10_000,
        990_000,
        1_200_000,
    ]


def _rows(n: int) -> None:
    """n tasks in review held and with appointments, each with an attempt and a flag; n imports."""
    main = queue("main")
    agent = agent_in(main, f"agent-{n}-{CallbackTask.objects.count()}")
    now = timezone.now()
    for i in range(n):
        task = open_task(main, receipt=timezone.localdate() - dt.timedelta(days=13))
        CallbackTask.objects.filter(pk=task.pk).update(
            holder=agent if i % 2 else None,
            lease_expires_at=now + dt.timedelta(minutes=5),
            appointment_at=now + dt.timedelta(hours=1),
            appointment_agent=agent if i % 3 else None,
        )
        CallAttempt.objects.create(task=task, agent=agent, outcome="refused", ended_at=now)
        flagged_policy()
        ImportRun.objects.create(kind="policies", source=ImportRun.Source.COMMAND, report={"rejections": []})
        ImportRun.objects.create(kind="policies", source=ImportRun.Source.WEB, started_by=agent)


LIST_PAGES = [
    ("/queue/", 12),
    ("/tasks/", 12),
    ("/tasks/?when=held", 12),
    ("/tasks/?when=appointments&queue=main", 12),
    ("/calls/", 10),
    ("/calls/?outcome=refused", 10),
    ("/flags/", 14),
    ("/flags/?status=open&branch=B1", 14),
    ("/imports/", 8),
]


@pytest.mark.parametrize(("url", "cap"), LIST_PAGES)
def test_list_pages_read_a_fixed_number_of_queries_whatever_their_rows(boss_client, url, cap):
    def queries() -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            response = boss_client.get(url)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    _rows(2)
    few = queries()
    _rows(12)
    assert queries() == few <= cap


def test_policy_page_queries_do_not_grow_with_its_flags(boss_client):
    flag = flagged_policy()
    url = reverse("policy_detail", args=[flag.policy.policy_no])

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert boss_client.get(url).status_code == 200
        return len(ctx.captured_queries)

    one = queries()
    for i in range(10):
        flag.pk = None
        flag.field = f"f{i}"
        flag.save()
    assert queries() == one <= 12


def test_flag_counts_are_shared_for_a_while_and_start_afresh_after_a_step(
    supervisor_client, django_capture_on_commit_callbacks
):
    """Under a filter the tally does not answer (here: raised since today), the counts are read from
    the flags and shared for a while; a supervisor's own step reads them afresh."""
    from callback.flags import flag_facets

    flags = [flagged_policy() for _ in range(3)]
    since = {"raised_from": timezone.localdate()}

    def counts(filters) -> tuple[int, int]:
        facets = supervisor_client.get(reverse("flag_list"), filters).context["facets"]
        by_status = {row["status"]: row["n"] for row in facets["by_status"]}
        return by_status["open"], by_status["waived"]

    assert counts(since) == (3, 0)
    assert flag_facets(filters=since, cached=True) == flag_facets(filters=since)
    flagged_policy()  # raised by an import meanwhile: shown once the counts lapse…
    assert counts(since) == (3, 0)
    assert counts({}) == (4, 0)  # … but at once where the tally answers (no filter)
    with django_capture_on_commit_callbacks(execute=True):
        supervisor_client.post(
            reverse("flag_action"), {"action": "waive", "flag": [flags[0].pk], "reason": "已核实"}
        )
    assert counts(since) == (3, 1)  # 4 open, one waived: read afresh after the step
    assert flag_facets(filters=since, cached=True) == flag_facets(filters=since)


def test_deep_pages_hold_the_same_rows_in_the_same_order(monkeypatch):
    from django.core.paginator import Paginator

    main = queue("main")
    for day in (3, 1, 2, 1, 3, 2, 1, 2, 3, 1, 2, 3):
        open_task(main, receipt=timezone.localdate() - dt.timedelta(days=day))
    monkeypatch.setattr(paging, "DEFERRED_JOIN_FROM", 5)
    tasks = supervision.task_list()
    for number in (1, 2, 3):
        deep = [t.pk for t in paging.LongListPaginator(tasks, 5).page(number)]
        plain = [t.pk for t in Paginator(tasks, 5).page(number)]
        assert deep == plain, number


def test_live_queue_counts_every_held_task_not_the_fifty_it_lists(boss_client):
    main = queue("main")
    agent = agent_in(main, "li")
    for _ in range(52):
        open_task(main, holder=agent, lease_expires_at=timezone.now() + dt.timedelta(minutes=9))
    board = boss_client.get(reverse("dashboard")).context["board"]
    assert len(board.held) == 50 and board.held_now == 52
    assert '?when=held"><span class="kpi">52</span>' in boss_client.get(reverse("dashboard")).content.decode()
