"""A hand-built data set for the statistics, whose every answer is worked out in docs/statistics.md.

Nine policies with 15-day windows, two branches, two call-centre agents, calls at the edges of
Beijing days (a call at 00:30 Beijing time is the day before in UTC).
"""

import datetime as dt
from zoneinfo import ZoneInfo

from callback import models
from callback.schedule import deadline_for, free_look_window
from verification.vocab import FlagCode, Outcome

from .factories import PolicyFactory, QueueFactory, UserFactory

SH = ZoneInfo("Asia/Shanghai")


def sh(month, day, hour=10, minute=0, year=2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SH)


def build() -> dict:
    """Returns the tasks T1…T9 and the agents a1, a2 by name."""
    queue = QueueFactory(code="stats")
    a1 = UserFactory(username="stats_a1", first_name="一", last_name="王", role="agent")
    a2 = UserFactory(username="stats_a2", first_name="二", last_name="李", role="agent")
    out: dict = {"a1": a1, "a2": a2}

    def task(name, receipt, branch, status, *, outcome="", closed=None, calls=()):
        policy = PolicyFactory(
            policy_no=f"PSTAT{name}",
            receipt_date=receipt,
            branch_code=branch,
            branch_name={"B1": "北京分公司", "B2": "上海分公司"}[branch],
            agent_code={"B1": "S001", "B2": "S002"}[branch],
            agent_name={"B1": "张三", "B2": "赵四"}[branch],
        )
        start, end = free_look_window(receipt, 15)
        t = models.CallbackTask.objects.create(
            policy=policy,
            queue=queue,
            status=status,
            window_start=start,
            window_end=end,
            deadline=deadline_for(end),
            outcome=outcome,
            closed_at=closed,
            attempts=len(calls),
        )
        for agent, when, result in calls:
            attempt = models.CallAttempt.objects.create(task=t, agent=agent, outcome=result)
            models.CallAttempt.objects.filter(pk=attempt.pk).update(
                started_at=when, ended_at=when + dt.timedelta(minutes=5)
            )
        out[name] = t
        return t

    S = models.TaskStatus
    task("T1", dt.date(2026, 3, 1), "B1", S.COMPLETED, outcome=Outcome.VERIFIED, closed=sh(3, 3),
         calls=[(a1, sh(3, 2), Outcome.NO_ANSWER), (a1, sh(3, 3), Outcome.VERIFIED)])  # fmt: skip
    task("T2", dt.date(2026, 3, 1), "B1", S.COMPLETED, outcome=Outcome.VERIFIED_WITH_ISSUES, closed=sh(3, 5),
         calls=[(a2, sh(3, 5), Outcome.VERIFIED_WITH_ISSUES)])  # fmt: skip
    task("T3", dt.date(2026, 3, 2), "B1", S.FAILED, outcome=Outcome.REFUSED, closed=sh(3, 4),
         calls=[(a1, sh(3, 4), Outcome.REFUSED)])  # fmt: skip
    task("T4", dt.date(2026, 3, 2), "B2", S.EXPIRED, closed=sh(3, 18, 0),
         calls=[(a1, sh(3, 2, 22), Outcome.NO_ANSWER), (a1, sh(3, 5), Outcome.NO_ANSWER)])  # fmt: skip
    # Verified on review half an hour after the window closed (deadline 26 March 00:00): late.
    task("T5", dt.date(2026, 3, 10), "B2", S.COMPLETED, outcome=Outcome.VERIFIED, closed=sh(3, 26, 0, 30),
         calls=[(a2, sh(3, 12), Outcome.CALLBACK_REQUESTED)])  # fmt: skip
    task("T6", dt.date(2026, 3, 20), "B2", S.OPEN,
         calls=[(a1, sh(3, 21), Outcome.BUSY), (a1, sh(3, 31, 23, 30), Outcome.NO_ANSWER),
                (a1, sh(4, 1, 0, 30), Outcome.NO_ANSWER)])  # fmt: skip
    task("T7", dt.date(2026, 3, 25), "B2", S.REVIEW, outcome=Outcome.FAILED_IDENTITY, closed=sh(3, 26),
         calls=[(a2, sh(3, 26), Outcome.FAILED_IDENTITY)])  # fmt: skip
    # Receipt the day before the period, window inside it; verified at 07:00 Beijing = 23:00 UTC on 28 Feb.
    task("T8", dt.date(2026, 2, 28), "B1", S.COMPLETED, outcome=Outcome.VERIFIED, closed=sh(3, 1, 7),
         calls=[(a1, sh(3, 1, 7), Outcome.VERIFIED)])  # fmt: skip
    task("T9", dt.date(2026, 3, 31), "B1", S.OPEN)
    for name, code in (("T1", FlagCode.MOBILE_INVALID), ("T4", FlagCode.MOBILE_INVALID),
                       ("T4", FlagCode.CALLBACK_UNREACHABLE)):  # fmt: skip
        models.ContactFlag.objects.create(
            policy=out[name].policy, party="applicant", field="mobile", code=code
        )
    return out
