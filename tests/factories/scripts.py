"""Factories and helpers for the workspace and script tests."""

import datetime as dt

from .. import factories

ALL_DAY = {
    "weekday_start": dt.time(0, 0),
    "weekday_end": dt.time(23, 59, 59),
    "weekend_start": dt.time(0, 0),
    "weekend_end": dt.time(23, 59, 59),
}


def serving_queue(agent, *, code: str = "all-day"):
    """A queue open around the clock, served by a team `agent` belongs to (the claim's preconditions)."""
    team = factories.TeamFactory(name=f"{code}组")
    profile = factories.StaffProfileFactory(user=agent)
    profile.team = team
    profile.save()
    queue = factories.QueueFactory(code=code, **ALL_DAY)
    queue.teams.add(team)
    return queue


def due_task(queue, *, applicant: dict | None = None, **policy):
    """An open, due callback task in `queue` whose policy has an applicant (陈磊, born 1960-09-08)."""
    policy_obj = factories.PolicyFactory(**policy)
    factories.PartyFactory(policy=policy_obj, **(applicant or {}))
    return factories.CallbackTaskFactory(policy=policy_obj, queue=queue)


def passing_answers(task, overrides: dict | None = None) -> dict:
    """What a customer who confirms everything says to the script covering `task`'s policy, by
    question key, as the API and `outcomes.close_attempt` take them (`overrides` replace answers)."""
    from callback import outcomes
    from callback.script_for_policy import version_for_policy

    return outcomes.confirming_answers(
        task=task, version=version_for_policy(task.policy), overrides=overrides
    ).stated
