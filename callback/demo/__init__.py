"""Demo data for `manage.py seed_demo`: idempotent, generated here (a user has no ../shared).

Each capability adds its own step; `seed_demo` runs them in order. Every step must leave the same
counts when run twice.
"""

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import CommandError
from django.db import transaction

from ..models import StaffProfile, Team
from ..roles import ADMIN, AGENT, SUPERVISOR

DEMO_PASSWORD = "huifang-demo"
DEMO_USERS = [
    # username, role, full name (first_name holds the whole Chinese name), staff
    ("agent", AGENT, "李静", False),
    ("agent2", AGENT, "王芳", False),
    ("supervisor", SUPERVISOR, "张伟", False),
    ("admin", ADMIN, "刘洋", True),
]


@transaction.atomic
def seed_users() -> dict[str, User]:
    if not settings.DEBUG:
        raise CommandError("Demo users are only created with DJANGO_DEBUG=1.")
    users = {}
    team, _ = Team.objects.get_or_create(name="回访一组")
    for username, role, full_name, is_staff in DEMO_USERS:
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.set_password(DEMO_PASSWORD)
        user.first_name = full_name
        user.is_staff = is_staff
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        profile, _ = StaffProfile.objects.get_or_create(user=user)
        if role == AGENT:
            profile.team = team
        profile.can_see_full_ids = role == SUPERVISOR
        profile.save()
        users[username] = user
    team.supervisor = users["supervisor"]
    team.save()
    return users


# The order in which `seed_demo` runs the steps; each is a callable taking the demo users.
def steps():
    from ..accountability import demo as duties_demo
    from . import calls, ecallback, flags, history, policies, queue, telephony

    return [
        ("registries and policies", policies.seed),
        ("flag work", flags.seed),
        ("queues and callback tasks", queue.seed),
        ("call attempts", calls.seed),
        ("telephony: recordings and SMS", telephony.seed),
        ("e-callbacks", ecallback.seed),
        ("eight weeks of finished callbacks (statistics)", history.seed),
        ("management duties", duties_demo.seed),
    ]
