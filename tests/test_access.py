"""Every URL of the URLconf × every role: a role not allowed a page gets 403 / 404 / 405 / a redirect
to a login page, never the data (trust issue #10).

The URLs come from the resolver, so a new view is tested the day it is added. A new view whose
name is not in ALLOWED fails `test_every_url_is_in_the_table` until its author says here who may
see it; that is the point.
"""

import datetime as dt
import itertools
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RegexPattern
from django.utils import timezone

from callback.models import CallAttempt, ContactFlag, ImportRun

from .factories import PartyFactory, UserFactory
from .factories.scripts import due_task, serving_queue

pytestmark = pytest.mark.django_db

ANONYMOUS, AGENT, SUPERVISOR, ADMIN = "anonymous", "agent", "supervisor", "admin"
ROLES = (ANONYMOUS, AGENT, SUPERVISOR, ADMIN)
STAFF = (AGENT, SUPERVISOR, ADMIN)
ANYONE = ROLES

# Who may receive a page (2xx) from each URL name; everyone else must be refused. `agent` here is an
# agent who does NOT hold the seeded task: an agent never sees another agent's callback.
ALLOWED: dict[str, tuple[str, ...]] = {
    "login": ANYONE,
    "logout": (),
    "set_language": ANYONE,  # a redirect back, no data
    "password_change": STAFF,
    "password_change_done": STAFF,
    "api_schema": STAFF,
    "api_docs": STAFF,
    "api_policies": (SUPERVISOR, ADMIN),
    "api_flags": (SUPERVISOR, ADMIN),
    "api_flags_request_correction": (SUPERVISOR, ADMIN),
    "api_flags_waive": (SUPERVISOR, ADMIN),
    "api_queue_next": (AGENT,),
    "api_task_heartbeat": (),
    "api_task_release": (),
    "api_task_attempts": (),
    "home": STAFF,
    "import_list": (SUPERVISOR, ADMIN),
    "import_detail": (SUPERVISOR, ADMIN),
    "flag_list": (SUPERVISOR, ADMIN),
    "flag_action": (SUPERVISOR, ADMIN),
    "flag_export": (SUPERVISOR, ADMIN),
    "policy_detail": (SUPERVISOR, ADMIN),
    "reveal_party": (),  # only with full-id permission, which no role has by default
    "workspace": (AGENT,),
    "workspace_next": (AGENT,),
    "workspace_answer": (),
    "workspace_notes": (),
    "workspace_dialled": (),
    "workspace_close": (),
    "workspace_release": (),
    "workspace_heartbeat": (AGENT,),  # answers "lease lost", nothing of the task
    "script_list": (ADMIN,),
    "script_preview": (ADMIN,),
    "script_publish": (ADMIN,),
    "script_retire": (ADMIN,),
    "script_new_draft": (ADMIN,),
    "attempt_list": (SUPERVISOR, ADMIN),
    "dashboard": (SUPERVISOR, ADMIN),
    "task_list": (SUPERVISOR, ADMIN),
    "task_review": (SUPERVISOR, ADMIN),
    "task_move": (SUPERVISOR, ADMIN),
    "fallback_queues": (SUPERVISOR, ADMIN),
    "fallback_letters_pdf": (SUPERVISOR, ADMIN),
    "fallback_sent": (SUPERVISOR, ADMIN),
    "fallback_visits": (SUPERVISOR, ADMIN),
    "fallback_receipt": (SUPERVISOR, ADMIN),
    "fallback_corrections": (SUPERVISOR, ADMIN),
    # Statistics (docs/statistics.md): supervisors and admins; agents see their own figures on the workspace.
    "stats": (SUPERVISOR, ADMIN),
    "stats_export": (SUPERVISOR, ADMIN),
    "task_export": (SUPERVISOR, ADMIN),
    "attempt_export": (SUPERVISOR, ADMIN),
    "api_stats_compliance": (SUPERVISOR, ADMIN),
    "api_stats_table": (SUPERVISOR, ADMIN),
    # Click-to-call acts on the caller's own held task and own call only (tests/test_telephony_calls.py).
    "workspace_call": (),
    "workspace_call_state": (),
    "workspace_hang_up": (),
    "recording_play": (SUPERVISOR, ADMIN),
    # Management duties (#14): supervisors and admins; only admins start a campaign (a POST).
    "duties_home": (SUPERVISOR, ADMIN),
    "fee_holds": (SUPERVISOR, ADMIN),
    "salespeople": (SUPERVISOR, ADMIN),
    "sample_list": (SUPERVISOR, ADMIN),
    "sample_detail": (SUPERVISOR, ADMIN),
    "sample_check": (SUPERVISOR, ADMIN),
    "back_book": (SUPERVISOR, ADMIN),
    "branch_inspection": (SUPERVISOR, ADMIN),
    "regulator_tables": (SUPERVISOR, ADMIN),
    # The applicant's e-callback: public, but only through a live link's token; a guessed one is 404.
    "ecallback_start": (),
    "ecallback_code": (),
    "ecallback_answers": (),
    "ecallback_sign": (),
    "ecallback_done": (),
    "ecallback_receipt": (),
    "ecallback_call": (),
    # Twilio's webhooks answer only requests signed with the account's token: no role, no session.
    "twilio_voice": (),
    "twilio_call_status": (),
    "twilio_recording": (),
    "twilio_sms_status": (),
    "twilio_sms_inbound": (),
}
# Whole namespaces: the Django admin and the django-rq dashboard are for staff accounts (the admin
# role); the admin's own permissions decide further.
ALLOWED_NAMESPACES = {"admin": (ADMIN,), "django_rq": (ADMIN,)}
ALLOWED_IN_NAMESPACE = {("admin", "login"): ANYONE, ("admin", "logout"): ANYONE}

REFUSED = {302, 401, 403, 404, 405, 409}
LOGIN_PAGES = ("/accounts/login/", "/admin/login/")
POLICY_NO = "P-ACCESS-1"
SECRETS = (POLICY_NO, "陈磊", "13800138000")


def _patterns(resolver=None, prefix="", namespace=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace or namespace
            yield from _patterns(pattern, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield namespace, pattern.name, pattern.pattern


def all_url_names() -> list[tuple[str, str, object]]:
    seen, out = set(), []
    for namespace, name, pattern in _patterns():
        key = (namespace, name, str(pattern))
        if key not in seen:
            seen.add(key)
            out.append((namespace, name, pattern))
    return out


def allowed_roles(namespace: str, name: str) -> tuple[str, ...] | None:
    if (namespace, name) in ALLOWED_IN_NAMESPACE:
        return ALLOWED_IN_NAMESPACE[(namespace, name)]
    if namespace in ALLOWED_NAMESPACES:
        return ALLOWED_NAMESPACES[namespace]
    return ALLOWED.get(name)


def test_every_url_is_in_the_table():
    missing = sorted(
        f"{ns}:{name}" if ns else name for ns, name, _ in all_url_names() if allowed_roles(ns, name) is None
    )
    assert missing == [], "add these views to ALLOWED in tests/test_access.py: who may see them?"


@pytest.fixture
def world():
    """One policy with its applicant, a task held by another agent, a flag, an attempt, an import."""
    holder = UserFactory(username="holder", role="agent")
    task = due_task(serving_queue(holder), policy_no=POLICY_NO)
    task.holder, task.lease_expires_at = holder, timezone.now() + dt.timedelta(minutes=10)
    task.save()
    party = task.policy.parties.get()
    PartyFactory(policy=task.policy, role="insured", seq=1)
    flag = ContactFlag.objects.create(
        policy=task.policy,
        party="applicant",
        field="applicant_mobile",
        code="mobile_invalid",
        detail="13800138000",
    )
    attempt = CallAttempt.objects.create(
        task=task, agent=holder, outcome="no_answer", ended_at=timezone.now()
    )
    run = ImportRun.objects.create(kind="policies", source="web", filename=f"{POLICY_NO}.csv", status="done")
    from verification.models import ScriptVersion

    version = ScriptVersion.objects.filter(status="published").first()
    return {
        "task": task.pk,
        "task_id": task.pk,
        "party_id": party.pk,
        "flag": flag.pk,
        "attempt": attempt.pk,
        "run": run.pk,
        "version_id": version.pk,
        "policy_no": POLICY_NO,
        "key": "identity",
    }


def _guesses(name: str, group: str, world: dict, regex: str = "") -> list:
    if group in world:
        return [world[group]]
    if group == "attempt_id":
        return [world["attempt"]]
    if group == "pk":
        return [world["run"] if name.startswith("import") else world["task"]]
    alternatives = re.search(rf"\(\?P<{group}>([\w|]+)\)", regex)
    values = [alternatives.group(1).split("|")[0]] if alternatives else []
    return [*values, 1, "x", 0]


def url_for(namespace: str, name: str, pattern, world: dict) -> str | None:
    full = f"{namespace}:{name}" if namespace else name
    if isinstance(pattern, RegexPattern):
        groups = re.findall(r"\(\?P<(\w+)>", str(pattern.regex.pattern))
        regex = str(pattern.regex.pattern)
    else:
        groups = list(pattern.converters)
        regex = ""
    options = [_guesses(name, g, world, regex) for g in groups]
    for values in itertools.product(*options):
        try:
            return reverse(full, kwargs=dict(zip(groups, values, strict=True)))
        except Exception:  # noqa: BLE001 - try the next guess
            continue
    return None


@pytest.fixture
def clients(client, world):
    from django.test import Client

    users = {
        AGENT: UserFactory(username="other-agent", role="agent"),
        SUPERVISOR: UserFactory(username="a-supervisor", role="supervisor"),
        ADMIN: UserFactory(username="an-admin", role="admin", is_staff=True),
    }
    made = {ANONYMOUS: Client()}
    for role, user in users.items():
        made[role] = Client()
        made[role].force_login(user)
    return made


def test_no_role_gets_what_it_may_not_see(clients, world):
    problems = []
    for namespace, name, pattern in all_url_names():
        allowed = allowed_roles(namespace, name) or ()
        url = url_for(namespace, name, pattern, world)
        if url is None:
            problems.append(f"{name}: could not build a URL")
            continue
        for role in ROLES:
            for method in ("get", "post"):
                response = getattr(clients[role], method)(url)
                code = response.status_code
                if code >= 500:
                    problems.append(f"{method.upper()} {url} as {role}: {code}")
                    continue
                if role in allowed:
                    continue
                if code not in REFUSED:
                    problems.append(f"{method.upper()} {url} as {role}: {code}, expected a refusal")
                    continue
                if code == 302 and not response["Location"].startswith(LOGIN_PAGES) and role == ANONYMOUS:
                    problems.append(f"{method.upper()} {url} as {role}: redirect to {response['Location']}")
                body = b"".join(response.streaming_content) if response.streaming else response.content
                leaked = [s for s in SECRETS if s.encode() in body]
                if leaked:
                    problems.append(f"{method.upper()} {url} as {role}: {code} shows {leaked}")
    assert not problems, "\n".join(problems)
