"""Factories and helpers for the queue tests: a queue served by a team, agents in it, tasks due."""

import datetime as dt
from zoneinfo import ZoneInfo

from callback import models
from callback.roles import AGENT, SUPERVISOR
from callback.schedule import deadline_for, free_look_window, start_of_day
from verification.validators import normalize_phone

from . import (
    PartyFactory,
    PolicyFactory,
    QueueFactory,
    StaffProfileFactory,
    TeamFactory,
    UserFactory,
)

SH = ZoneInfo("Asia/Shanghai")


def at(y, m, d, hh=10, mm=0, tz=SH) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=tz)


# A Wednesday morning, Beijing time: inside calling hours, no holiday.
NOW = at(2026, 3, 4, 10, 0)


def agent_in(queue: models.Queue, username: str, role: str = AGENT):
    team = queue.teams.first()
    if team is None:
        team = TeamFactory()
        queue.teams.add(team)
    user = UserFactory(username=username, role=role)
    StaffProfileFactory(user=user, team=team)
    return user


def supervisor(username: str = "sup"):
    return UserFactory(username=username, role=SUPERVISOR)


def queue(code: str = "main", is_default: bool = True, **kwargs) -> models.Queue:
    if is_default:  # the migration's default queue steps aside
        models.Queue.objects.filter(is_default=True).exclude(code=code).update(is_default=False)
    return QueueFactory(code=code, is_default=is_default, **kwargs)


def policy_with_applicant(
    *, receipt: dt.date | None, mobile="13800138000", phone="", birth=dt.date(1980, 5, 6), **policy_kwargs
) -> models.Policy:
    policy = PolicyFactory(receipt_date=receipt, **policy_kwargs)
    PartyFactory(
        policy=policy,
        mobile=mobile,
        mobile_e164=normalize_phone(mobile),
        phone=phone,
        phone_e164=normalize_phone(phone),
        birth_date=birth,
    )
    return policy


def open_task(
    q: models.Queue,
    *,
    receipt: dt.date = dt.date(2026, 3, 1),
    days: int = 15,
    mobile="13800138000",
    phone="",
    next_attempt_at: dt.datetime | None = None,
    attempts: int = 0,
    **kwargs,
) -> models.CallbackTask:
    policy = policy_with_applicant(receipt=receipt, mobile=mobile, phone=phone)
    start, end = free_look_window(receipt, days)
    return models.CallbackTask.objects.create(
        policy=policy,
        queue=q,
        status=models.TaskStatus.OPEN,
        window_start=start,
        window_end=end,
        deadline=deadline_for(end),
        next_attempt_at=next_attempt_at or start_of_day(start),
        attempts=attempts,
        **kwargs,
    )
