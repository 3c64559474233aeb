"""Demo step: eight weeks of finished callbacks, so that 统计 Statistics has closed windows to count.

About 180 older policies go through the real intake (screening raises their flags); their callbacks
are then written as they would have gone: most verified in time after a try or two, some refused,
answered by sales staff or never reached (the sweep closes those windows and raises
`callback_unreachable`), a few verified late. One branch, a few salespeople and bank outlets do worse
than the rest, as in real inspections, so the breakdowns have something to show.

Idempotent: skipped when the history is already there.
"""

import datetime as dt
import random
import tempfile
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from verification.vocab import FlagCode, Outcome

from ..models import CallAttempt, CallbackTask, Channel, ImportKind, Policy, TaskStatus
from ..outcomes import raise_callback_flag
from ..sweep import close_windows
from . import data as demo_data
from .policies import _run, _write

PREFIX = "PAH"
BATCHES = ((20, 90, 301), (41, 90, 302))  # (days before today, policies, seed)
WEAK_BRANCH = "B1304"


def seed(users) -> None:
    agents = [users[name] for name in ("agent", "agent2") if name in users]
    if not agents or Policy.objects.filter(policy_no__startswith=PREFIX).exists():
        return
    today = timezone.localdate()
    registry_agents, outlets = demo_data.agent_rows(), demo_data.outlet_rows()
    with tempfile.TemporaryDirectory(prefix="huifang-demo-") as folder:
        for n, (days_ago, count, seed_) in enumerate(BATCHES):
            rows = demo_data.policy_rows(
                count,
                today=today - dt.timedelta(days=days_ago),
                seed=seed_,
                agents=registry_agents,
                outlets=outlets,
                prefix=f"{PREFIX}{n}",
            )
            path = _write(Path(folder) / f"demo_history_{n}.csv", demo_data.POLICY_COLUMNS, rows)
            _run(ImportKind.POLICIES, path, users)
    _play(agents, today)


@transaction.atomic
def _play(agents, today: dt.date) -> None:
    rnd = random.Random(2026)
    tz = timezone.get_default_timezone()
    tasks = list(
        CallbackTask.objects.filter(policy__policy_no__startswith=PREFIX, window_start__isnull=False)
        .select_related("policy")
        .order_by("policy__policy_no")
    )
    weak_sales = {row["agent_code"] for row in demo_data.agent_rows()[:4]}
    attempts, starts, unreachable = [], [], set()

    def call(task, day: dt.date, outcome: str, channel: str = Channel.PHONE) -> dt.datetime:
        start = dt.datetime.combine(day, dt.time(rnd.randrange(9, 20), rnd.randrange(60)), tz)
        ended = start + dt.timedelta(seconds=rnd.randrange(60, 540))
        # An e-callback is completed by the applicant alone: no agent.
        agent = None if channel == Channel.ECALLBACK else rnd.choice(agents)
        attempts.append(CallAttempt(task=task, agent=agent, outcome=outcome, channel=channel, ended_at=ended))
        starts.append(start)
        return ended

    for task in tasks:
        policy = task.policy
        risk = 0.12 + (0.25 if policy.branch_code == WEAK_BRANCH else 0)
        risk += 0.2 if policy.agent_code in weak_sales else 0
        if policy.outlet_code and policy.outlet_code.endswith(("1", "5")):
            risk += 0.15
        day = task.window_start + dt.timedelta(days=rnd.randrange(0, 3))
        last_day = min(task.window_end, today - dt.timedelta(days=1))
        for _ in range(rnd.choice([0, 0, 1, 1, 2])):  # tries that reached no one
            if day >= last_day:
                break
            call(task, day, rnd.choice([Outcome.NO_ANSWER, Outcome.NO_ANSWER, Outcome.BUSY]))
            day += dt.timedelta(days=rnd.randrange(1, 3))
        fate = rnd.random()
        if fate < risk * 0.45:  # never reached: the sweep closes the window
            for _ in range(3):
                if day > last_day:
                    break
                call(task, day, rnd.choice([Outcome.NO_ANSWER, Outcome.NO_ANSWER, Outcome.BUSY]))
                day += dt.timedelta(days=2)
            unreachable.add(task.pk)
            continue
        day = min(day, last_day)
        if fate < risk:
            outcome = rnd.choice(
                [Outcome.REFUSED, Outcome.FAILED_IDENTITY, Outcome.WRONG_NUMBER]
                + ([Outcome.AGENT_ANSWERED] * 2 if policy.agent_code in weak_sales else [])
            )
            task.closed_at = call(task, day, outcome)
            task.status, task.outcome = TaskStatus.FAILED, outcome
            if outcome == Outcome.WRONG_NUMBER:
                raise_callback_flag(task=task, code=FlagCode.CALLBACK_WRONG_NUMBER, field="mobile", detail="")
            elif outcome == Outcome.AGENT_ANSWERED:
                raise_callback_flag(
                    task=task, code=FlagCode.CALLBACK_AGENT_ANSWERED, field="mobile", detail=""
                )
        elif fate < risk + 0.03:  # verified on review after the window closed
            call(task, day, Outcome.VERIFIED_WITH_ISSUES)
            task.closed_at = task.deadline + dt.timedelta(hours=rnd.randrange(2, 30))
            task.status, task.outcome = TaskStatus.COMPLETED, Outcome.VERIFIED_WITH_ISSUES
        else:
            outcome = Outcome.VERIFIED_WITH_ISSUES if rnd.random() < 0.08 else Outcome.VERIFIED
            channel = Channel.ECALLBACK if rnd.random() < 0.1 else Channel.PHONE
            task.closed_at = call(task, day, outcome, channel=channel)
            task.status, task.outcome = TaskStatus.COMPLETED, outcome
    CallAttempt.objects.bulk_create(attempts, batch_size=500)
    # started_at is auto_now_add, so bulk_create stamped "now": put each call back at its time.
    for attempt, start in zip(attempts, starts, strict=True):
        attempt.started_at = start
    CallAttempt.objects.bulk_update(attempts, ["started_at"], batch_size=500)
    counts: dict[int, int] = {}
    for attempt in attempts:
        counts[attempt.task_id] = counts.get(attempt.task_id, 0) + 1
    for task in tasks:
        task.attempts = counts.get(task.pk, 0)
    CallbackTask.objects.bulk_update(tasks, ["status", "outcome", "closed_at", "attempts"], batch_size=500)
    # Never reached: the sweep closes their windows (status expired, `callback_unreachable`) as it would
    # have on the day; the close is dated at the deadline, not today.
    close_windows(now=timezone.now())
    for task in tasks:
        if task.pk in unreachable:
            CallbackTask.objects.filter(pk=task.pk).update(closed_at=task.deadline)
