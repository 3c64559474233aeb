"""Demo step: queues, teams, holidays and callback tasks in every state, relative to now.

Idempotent: queues, rules and holidays are get-or-create; a task is shaped only while it has no
attempt yet, so a second run leaves the same counts.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from verification.vocab import Channel, Outcome

from ..models import (
    CallAttempt,
    CallbackTask,
    Holiday,
    Party,
    Policy,
    Queue,
    RoutingRule,
    StaffProfile,
    TaskStatus,
    Team,
)
from ..outcomes import AttemptError, close_attempt, confirming_answers
from ..schedule import CallingHours, load_holidays, sync_tasks
from ..script_for_policy import version_for_policy
from ..sweep import sweep

# 2026 public holidays as announced by the State Council (国务院办公厅关于2026年部分节假日安排的通知).
# Make-up working days are not modelled: on those weekend days the weekend calling hours apply.
HOLIDAYS_2026 = [
    ("2026-01-01", "元旦"),
    ("2026-01-02", "元旦"),
    ("2026-01-03", "元旦"),
    *[(f"2026-02-{d:02d}", "春节") for d in range(15, 24)],
    ("2026-04-04", "清明节"),
    ("2026-04-05", "清明节"),
    ("2026-04-06", "清明节"),
    *[(f"2026-05-{d:02d}", "劳动节") for d in range(1, 6)],
    ("2026-06-19", "端午节"),
    ("2026-06-20", "端午节"),
    ("2026-06-21", "端午节"),
    ("2026-09-25", "中秋节"),
    ("2026-09-26", "中秋节"),
    ("2026-09-27", "中秋节"),
    *[(f"2026-10-{d:02d}", "国庆节") for d in range(1, 8)],
]

# The demo's queues take calls around the clock, so that whoever runs `make demo`, at whatever hour,
# finds callbacks due in the workspace. Real queues keep the model's defaults (Mon–Fri 09:00–20:30,
# Sat–Sun 09:00–17:00), editable under Settings → Queues.
DEMO_CALLING_HOURS = {
    "weekday_start": dt.time(0, 0),
    "weekday_end": dt.time(23, 59, 59),
    "weekend_start": dt.time(0, 0),
    "weekend_end": dt.time(23, 59, 59),
}

QUEUES = [
    # code, name, default, routing rule
    ("default", "默认回访队列", True, None),
    ("senior-care", "60岁以上关爱回访", False, {"order": 10, "min_age": 60}),
    ("bancassurance", "银保回访队列", False, {"order": 20, "channel": Channel.BANCASSURANCE}),
]


@transaction.atomic
def seed(users) -> None:
    now = timezone.now()
    team, _ = Team.objects.get_or_create(name="回访一组")
    team.supervisor = users.get("supervisor")
    team.save()
    for username in ("agent", "agent2"):
        if username in users:
            StaffProfile.objects.update_or_create(user=users[username], defaults={"team": team})
    for code, name, is_default, rule in QUEUES:
        queue, _ = Queue.objects.update_or_create(
            code=code, defaults={"name": name, "is_default": is_default, **DEMO_CALLING_HOURS}
        )
        queue.teams.add(team)
        if rule:
            RoutingRule.objects.get_or_create(queue=queue, **rule)
    Queue.objects.exclude(code="default").update(is_default=False)
    for day, name in HOLIDAYS_2026:
        Holiday.objects.get_or_create(date=dt.date.fromisoformat(day), defaults={"name": name})

    _make_two_expired(now)
    sync_tasks(now=now)
    sweep(now=now)
    _shape_tasks(users, now)


def _make_two_expired(now: dt.datetime) -> None:
    """Two policies whose receipt was signed long enough ago that their window has closed."""
    today = timezone.localdate(now)
    for policy in Policy.objects.filter(in_scope=True, receipt_date__isnull=False).order_by("-policy_no")[:2]:
        Policy.objects.filter(pk=policy.pk).update(receipt_date=today - dt.timedelta(days=19))


def _shape_tasks(users, now: dt.datetime) -> None:
    agent, agent2 = users.get("agent"), users.get("agent2")
    if agent is None or agent2 is None:
        return
    tasks = list(
        CallbackTask.objects.filter(status=TaskStatus.OPEN, deadline__gt=now + dt.timedelta(days=2))
        .select_related("queue")
        .order_by("policy__policy_no")
    )
    fresh = [t for t in tasks if not CallAttempt.objects.filter(task=t).exists()]
    if len(tasks) != len(fresh):
        return  # shaped by an earlier run
    hours = CallingHours()
    holidays = load_holidays(around=timezone.localdate(now))
    yesterday = (now - dt.timedelta(days=1)).replace(hour=7, minute=30)  # 15:30 Beijing

    def attempt(task, who, outcome, at, **kwargs):
        try:
            made = close_attempt(
                task=task, agent=who, outcome=outcome, now=at, number_dialled=_number(task), **kwargs
            )
        except AttemptError:  # e.g. yesterday was a holiday: the demo simply has one fewer example
            return
        CallAttempt.objects.filter(pk=made.pk).update(started_at=at - dt.timedelta(minutes=2))
        task.refresh_from_db()

    plan = iter(fresh)
    # An appointment the customer asked for yesterday, due now, kept for `agent`.
    task = next(plan, None)
    if task:
        due = now - dt.timedelta(minutes=3)
        attempt(
            task,
            agent,
            Outcome.CALLBACK_REQUESTED,
            yesterday,
            appointment_at=yesterday + dt.timedelta(hours=1),
            notes="客户在开会，请求稍后回电",
        )
        CallbackTask.objects.filter(pk=task.pk).update(
            appointment_at=due, next_attempt_at=due, appointment_agent=agent
        )
    # One later: tomorrow 19:00 (or the next calling time after it).
    task = next(plan, None)
    if task:
        later = hours.next_open(
            timezone.localtime(now).replace(hour=19, minute=0, second=0, microsecond=0)
            + dt.timedelta(days=1),
            holidays,
        )
        if later and later < task.deadline:
            attempt(
                task,
                agent,
                Outcome.CALLBACK_REQUESTED,
                now - dt.timedelta(minutes=40),
                appointment_at=later,
                notes="客户说明天晚上七点方便",
            )
    # Held right now by agent2.
    task = next(plan, None)
    if task:
        CallbackTask.objects.filter(pk=task.pk).update(
            holder=agent2, lease_expires_at=now + dt.timedelta(minutes=12)
        )
    # Earlier tries that did not reach anyone: some due again now, some later today.
    for i, outcome in enumerate(
        [Outcome.NO_ANSWER, Outcome.BUSY, Outcome.NO_ANSWER, Outcome.HUNG_UP, Outcome.NO_ANSWER, Outcome.BUSY]
    ):
        task = next(plan, None)
        if task is None:
            return
        at = yesterday if i % 2 == 0 else now - dt.timedelta(minutes=20)
        attempt(task, agent if i % 3 else agent2, outcome, at, notes="")
    # Two waiting for a supervisor's review.
    for outcome, note in (
        (Outcome.REFUSED, "客户表示不需要回访，拒绝回答"),
        (Outcome.VERIFIED_WITH_ISSUES, "客户不清楚保险期间和退保损失"),
    ):
        task = next(plan, None)
        if task is None:
            return
        kwargs = {}
        if outcome == Outcome.VERIFIED_WITH_ISSUES and (version := version_for_policy(task.policy)):
            # Answered through the script, one answer failing: the close the script allows.
            answers = confirming_answers(
                task=task,
                version=version,
                caller=agent,
                overrides={"premium_understood": "no", "premium_understood_explained": "no"},
            ).judged
            kwargs["attempt"] = CallAttempt(task=task, agent=agent, script_version=version, answers=answers)
        attempt(task, agent, outcome, now - dt.timedelta(hours=1), notes=note, **kwargs)


def _number(task: CallbackTask) -> str:
    party = Party.objects.applicant_of(task.policy_id)
    return (party.mobile or party.phone) if party else ""
