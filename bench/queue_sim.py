"""A month of new business through the callback queue, against first-in-first-out dialing.

    DJANGO_DEBUG=1 .venv/bin/python -m bench.queue_sim [--policies 20000] [--agent-hours 70 [80 …]] [--seed 1]
        [--ecallback-share 0.7]

In memory, minute by minute. The rules are the product's own functions, imported, not re-written:
free-look window and deadline (callback.schedule.free_look_window / deadline_for), calling hours
(CallingHours), retry times and the daily cap (callback.outcomes.plan_retry with DEFAULT_RETRIES),
appointment grace (callback.queue.appointment_grace) and the claim order (callback.queue.due_order_key,
which tests/test_queue.py pins to the claim's SQL). The two strategies differ only in which due task
an agent gets next:

- huifang: the agent's own due appointments, then appointments open to anyone, then due tasks by
  earliest free-look deadline, fewest attempts, oldest;
- fifo: due tasks in the order they became due (appointments and retries join the end of the line).

Customers: 20,000 policies issued evenly over 30 days, receipt signed 1–10 days after issue;
applicants are office workers (answer mostly at lunch, after work and at weekends), retirees (answer
in the daytime) or hard to reach (30% any time), and 5% never answer (unreachable: excluded from the
share, as the goal is stated for reachable applicants). An answered call is a verification (7 min
with wrap-up) or, for 4%, a request to be called back tomorrow at the customer's good time. Unanswered:
no answer 70%, busy 20%, hung up 10% (1 minute each). Agents: a fixed number of agent-hours every
day, spread over that day's calling hours.

With --ecallback-share S, a third run ("huifang+ecb") offers an e-callback (callback/ecallback/) to a
share S of the policies, chosen at random, and phones the rest and what the e-callback leaves. The
completion model (ECALLBACK_MODEL below; the industry reports 60–80% of offered policies completed
online, mostly on the first day): the link SMS goes out when the window opens; an applicant completes
online with a probability by profile (office workers 75%, retirees 45%, hard to reach 60%, and 20% of
those who never answer an unknown number), after a delay drawn from a log-normal with a median of 5
hours; 6% of completions answer "no" somewhere and go to a specialist's call (entering the phone queue
at that moment, where they answer like anyone of their profile). Whoever has not completed by the
fallback time (3 days after the SMS or 5 days before the window ends, whichever is first, as
callback.ecallback.rules.fallback_time) enters the phone queue then. Agent time counts every call
(7 minutes for a verification, 2 for an appointment, 1 for an unanswered call); "agent hours saved" is
phone-only's agent time minus the run with e-callbacks, on the same month, policies and agent-hours.
"""

import argparse
import datetime as dt
import heapq
import os
import random
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

SH = ZoneInfo("Asia/Shanghai")
MIN = dt.timedelta(minutes=1)

# P(answer) by profile and local hour (weekday; weekends use the "weekend" value).
PROFILES = {
    "worker": {
        "weights": 0.45,
        "weekend": 0.55,
        "hours": {
            9: 0.2,
            10: 0.15,
            11: 0.2,
            12: 0.55,
            13: 0.4,
            14: 0.15,
            15: 0.15,
            16: 0.15,
            17: 0.25,
            18: 0.5,
            19: 0.6,
            20: 0.55,
        },
    },
    "retiree": {
        "weights": 0.30,
        "weekend": 0.6,
        "hours": {
            9: 0.65,
            10: 0.7,
            11: 0.6,
            12: 0.35,
            13: 0.4,
            14: 0.6,
            15: 0.65,
            16: 0.6,
            17: 0.45,
            18: 0.35,
            19: 0.45,
            20: 0.35,
        },
    },
    "busy": {"weights": 0.20, "weekend": 0.3, "hours": dict.fromkeys(range(9, 21), 0.3)},
    "unreachable": {"weights": 0.05, "weekend": 0.0, "hours": dict.fromkeys(range(9, 21), 0.0)},
}
GOOD_HOUR = {"worker": 19, "retiree": 10, "busy": 12, "unreachable": 12}

# E-callback completion model (see the module docstring).
ECALLBACK_MODEL = {
    "complete": {"worker": 0.75, "retiree": 0.45, "busy": 0.60, "unreachable": 0.20},
    "median_hours": 5.0,
    "sigma": 1.2,  # log-normal spread: a quarter within ~2 hours, a tenth after ~1 day
    "review": 0.06,
    "fallback_after_days": 3,
    "fallback_before_end_days": 5,
}


@dataclass
class SimTask:
    seq: int
    profile: str
    created_at: dt.datetime  # when intake made it callable (receipt signed)
    deadline: dt.datetime
    next_attempt_at: dt.datetime
    attempts: int = 0
    days: list = field(default_factory=list)
    appointment_at: dt.datetime | None = None
    appointment_agent: int | None = None
    verified_at: dt.datetime | None = None
    closed: bool = False
    online: bool = False  # verified by the applicant's own e-callback (no agent time)
    version: int = 0  # lazy deletion in heaps


def make_tasks(n: int, start: dt.date, rnd: random.Random, free_look_window, deadline_for, start_of_day):
    names, weights = zip(*((k, v["weights"]) for k, v in PROFILES.items()), strict=True)
    tasks = []
    for i in range(n):
        issue = start + dt.timedelta(days=int(i * 30 / n))
        receipt = issue + dt.timedelta(days=min(10, 1 + int(rnd.expovariate(1 / 2.5))))
        window_start, window_end = free_look_window(receipt, 15)
        opens = start_of_day(window_start)
        tasks.append(
            SimTask(
                seq=i,
                profile=rnd.choices(names, weights)[0],
                created_at=opens - dt.timedelta(hours=8),
                deadline=deadline_for(window_end),
                next_attempt_at=opens,
            )
        )
    return tasks


def apply_ecallbacks(tasks: list[SimTask], share: float, rnd: random.Random) -> int:
    """Offer an e-callback to `share` of the tasks; returns how many were offered."""
    import math

    model = ECALLBACK_MODEL
    offered = 0
    for task in tasks:
        if rnd.random() >= share:
            continue
        offered += 1
        sent_at = task.next_attempt_at
        fallback_at = min(
            sent_at + dt.timedelta(days=model["fallback_after_days"]),
            task.deadline - dt.timedelta(days=model["fallback_before_end_days"]),
        )
        delay = dt.timedelta(hours=model["median_hours"] * math.exp(rnd.gauss(0, model["sigma"])))
        if rnd.random() < model["complete"][task.profile] and sent_at + delay < fallback_at:
            done_at = sent_at + delay
            if rnd.random() < model["review"]:
                task.next_attempt_at = done_at  # a specialist calls
            else:
                task.verified_at, task.closed, task.online = done_at, True, True
        else:
            task.next_attempt_at = max(sent_at, fallback_at)
    return offered


def answers(task: SimTask, at: dt.datetime, rnd: random.Random) -> bool:
    local = at.astimezone(SH)
    profile = PROFILES[task.profile]
    p = profile["weekend"] if local.weekday() >= 5 else profile["hours"].get(local.hour, 0.0)
    return rnd.random() < p


def simulate(
    strategy: str, tasks: list[SimTask], *, agent_hours: float, start: dt.date, days: int, seed: int
):
    from callback.outcomes import DEFAULT_RETRIES, plan_retry
    from callback.queue import appointment_grace, due_order_key
    from callback.schedule import CallingHours

    rnd = random.Random(seed)
    hours = CallingHours()
    grace = appointment_grace()
    future: list = []  # (next_attempt_at, seq, version)
    due: list = []  # (key, seq, version)
    by_seq = {t.seq: t for t in tasks}
    for t in tasks:
        if not t.closed:
            heapq.heappush(future, (t.next_attempt_at, t.seq, t.version))
    appointments: dict[int, SimTask] = {}
    now = dt.datetime.combine(start, dt.time.min, tzinfo=SH)
    end = now + dt.timedelta(days=days)
    busy_until: dict[int, dt.datetime] = {}
    calls = 0
    agent_minutes = 0

    def schedule(task: SimTask, when: dt.datetime) -> None:
        task.version += 1
        task.next_attempt_at = when
        heapq.heappush(future, (when, task.seq, task.version))

    def key(task: SimTask):
        if strategy == "fifo":
            return (task.next_attempt_at, task.seq)
        return due_order_key(deadline=task.deadline, attempts=task.attempts, created_at=task.created_at)

    ready: list[SimTask] = []

    def next_for(agent: int) -> SimTask | None:
        # Appointments (huifang only): own first, then open to anyone after the grace period.
        if ready:
            own = [t for t in ready if t.appointment_agent == agent]
            others = [
                t for t in ready if t.appointment_agent not in busy_until or t.appointment_at <= now - grace
            ]
            for pick in (own, others):
                if pick:
                    chosen = min(pick, key=lambda t: (t.appointment_at, t.seq))
                    del appointments[chosen.seq]
                    ready.remove(chosen)
                    return chosen
        while due:
            _, seq, version = heapq.heappop(due)
            task = by_seq[seq]
            if task.version != version or task.closed:
                continue
            if task.deadline <= now:
                task.closed = True
                continue
            return task
        return None

    while now < end:
        holidays = frozenset()
        if not hours.is_open(now, holidays):
            now = hours.next_open(now, holidays) or end
            busy_until.clear()
            continue
        local = now.astimezone(SH)
        start_h, end_h = hours.hours_on(local.date(), holidays)
        open_minutes = (end_h.hour * 60 + end_h.minute) - (start_h.hour * 60 + start_h.minute)
        on_duty = max(1, round(agent_hours * 60 / open_minutes))
        for agent in range(on_duty):
            busy_until.setdefault(agent, now)
        while future and future[0][0] <= now:
            _, seq, version = heapq.heappop(future)
            task = by_seq[seq]
            if task.version != version or task.closed:
                continue
            if strategy == "huifang" and task.appointment_at is not None:
                appointments[task.seq] = task
            else:
                heapq.heappush(due, (key(task), task.seq, task.version))
        ready = sorted(
            (t for t in appointments.values() if t.appointment_at <= now and not t.closed),
            key=lambda t: (t.appointment_at, t.seq),
        )
        for agent in range(on_duty):
            if busy_until[agent] > now:
                continue
            task = next_for(agent)
            if task is None:
                break
            if task.deadline <= now:
                task.closed = True
                continue
            calls += 1
            task.attempts += 1
            task.days.append(local.date())
            task.appointment_at, task.appointment_agent = None, None
            if answers(task, now, rnd):
                if rnd.random() < 0.04:
                    when = (local + dt.timedelta(days=1)).replace(hour=GOOD_HOUR[task.profile], minute=0)
                    when = hours.next_open(when) or when
                    busy_until[agent] = now + 2 * MIN
                    agent_minutes += 2
                    if when < task.deadline:
                        task.appointment_at, task.appointment_agent = when, agent
                        schedule(task, when)
                    else:  # too late for the window: an ordinary retry
                        schedule(task, hours.next_open(now + 120 * MIN) or now + 120 * MIN)
                    continue
                task.verified_at, task.closed = now, True
                busy_until[agent] = now + 7 * MIN
                agent_minutes += 7
                continue
            busy_until[agent] = now + MIN
            agent_minutes += 1
            outcome = rnd.choices(["no_answer", "busy", "hung_up"], [0.7, 0.2, 0.1])[0]
            retry_at = plan_retry(
                outcome=outcome, now=now, attempt_days=task.days, rules=DEFAULT_RETRIES, hours=hours
            )
            if retry_at is None or retry_at >= task.deadline:
                task.closed = retry_at is None
                continue
            schedule(task, retry_at)
        now += MIN
    return calls, agent_minutes


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--policies", type=int, default=20_000)
    parser.add_argument(
        "--agent-hours",
        type=float,
        nargs="+",
        default=[70],
        help="agent-hours of calling every day (several values: one comparison each)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--ecallback-share",
        type=float,
        default=0.0,
        help="share of policies offered an e-callback (0 = phone only, no third run)",
    )
    args = parser.parse_args()
    django.setup()
    from callback.schedule import deadline_for, free_look_window, start_of_day

    start = dt.date(2026, 3, 2)  # a month without public holidays
    days = 30 + 10 + 17
    for agent_hours in args.agent_hours:
        compare(args, agent_hours, start, days, free_look_window, deadline_for, start_of_day)


def compare(args, agent_hours, start, days, free_look_window, deadline_for, start_of_day) -> None:
    print(f"{args.policies:,} policies over 30 days, {agent_hours:g} agent-hours a day, seed {args.seed}")
    results, minutes = {}, {}
    runs = [("fifo", "fifo", 0.0), ("huifang", "huifang", 0.0)]
    if args.ecallback_share > 0:
        runs.append(("huifang+ecb", "huifang", args.ecallback_share))
    for name, strategy, share in runs:
        tasks = make_tasks(
            args.policies, start, random.Random(args.seed), free_look_window, deadline_for, start_of_day
        )
        offered = apply_ecallbacks(tasks, share, random.Random(args.seed + 7)) if share else 0
        calls, minutes[name] = simulate(
            strategy, tasks, agent_hours=agent_hours, start=start, days=days, seed=args.seed
        )
        reachable = [t for t in tasks if t.profile != "unreachable"]
        in_time = sum(1 for t in reachable if t.verified_at is not None and t.verified_at < t.deadline)
        rate = in_time / len(reachable)
        attempts = sum(t.attempts for t in reachable if t.verified_at) / max(1, in_time)
        results[name] = rate
        extra = ""
        if share:
            online = sum(1 for t in tasks if t.online)
            done = online / max(1, offered)
            extra = f"; {offered:,} offered an e-callback, {online:,} ({done:.1%}) completed online"
        print(
            f"{name:12} verified before deadline: {rate:7.2%} of {len(reachable):,} reachable applicants "
            f"({calls:,} calls, {attempts:.2f} attempts per verified, "
            f"{minutes[name] / 60:,.0f} agent hours{extra})"
        )
    print(
        f"huifang vs fifo: {results['huifang'] - results['fifo']:+.2%} points; goal >= 98%: "
        f"{'met' if results['huifang'] >= 0.98 else 'NOT met'}"
    )
    if "huifang+ecb" in results:
        saved = minutes["huifang"] - minutes["huifang+ecb"]
        print(
            f"e-callback share {args.ecallback_share:.0%} vs phone only: verified in time "
            f"{results['huifang+ecb']:.2%} vs {results['huifang']:.2%} "
            f"({results['huifang+ecb'] - results['huifang']:+.2%} points); "
            f"agent hours {minutes['huifang+ecb'] / 60:,.0f} vs {minutes['huifang'] / 60:,.0f}: "
            f"{saved / 60:,.0f} hours saved ({saved / max(1, minutes['huifang']):.1%}, "
            f"ratio {minutes['huifang+ecb'] / max(1, minutes['huifang']):.2f}x)"
        )


if __name__ == "__main__":
    main()
