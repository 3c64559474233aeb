"""The three roles of the call centre as Django groups, and the permissions each carries.

Groups are created by migration 0002; `sync_role_permissions` (run after every migrate) gives each
group exactly the permissions listed here, so a model added later is covered without a new migration.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.core.exceptions import PermissionDenied

AGENT = "agent"
SUPERVISOR = "supervisor"
ADMIN = "admin"
ROLES = (AGENT, SUPERVISOR, ADMIN)

_SUPERVISOR_MODELS = [
    "callback.policy",
    "callback.party",
    "callback.contactflag",
    "callback.callbacktask",
    "callback.callattempt",
    "callback.importrun",
    "callback.agent",
    "callback.outlet",
    "callback.companynumber",
    "callback.queue",
    "callback.routingrule",
    "callback.team",
    "callback.holiday",
    "callback.auditevent",
    "verification.script",
    "verification.scriptversion",
    "verification.question",
]
_ADMIN_CONFIG_MODELS = [
    "callback.agent",
    "callback.outlet",
    "callback.companynumber",
    "callback.queue",
    "callback.routingrule",
    "callback.team",
    "callback.staffprofile",
    "callback.holiday",
    "verification.script",
    "verification.scriptversion",
    "verification.question",
    "auth.user",
]
# What docs/ecallback.md, docs/fallbacks.md and docs/telephony.md say admins set.
_CONFIG_SETTING_MODELS = [
    "callback.freelookrule",
    "callback.retryrule",
    "callback.fallbackrule",
    "callback.ecallbacksettings",
    "callback.phoneonlyrule",
    "callback.smstemplate",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    AGENT: ["callback.work_callbacktask", "callback.add_callattempt"],
    SUPERVISOR: [f"{m.split('.')[0]}.view_{m.split('.')[1]}" for m in _SUPERVISOR_MODELS]
    + [
        "callback.review_contactflag",
        "callback.export_contactflag",
        "callback.change_callbacktask",
        "callback.add_importrun",
    ],
    ADMIN: [
        f"{m.split('.')[0]}.{action}_{m.split('.')[1]}"
        for m in _ADMIN_CONFIG_MODELS + _CONFIG_SETTING_MODELS
        for action in ("view", "add", "change", "delete")
    ]
    + [f"{m.split('.')[0]}.view_{m.split('.')[1]}" for m in _SUPERVISOR_MODELS]
    + ["callback.add_importrun", "callback.export_contactflag", "auth.view_group"],
}


def sync_role_permissions(**kwargs) -> None:
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            found = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if found:  # a model listed here may not exist yet in this migration state
                wanted.append(found)
        group.permissions.set(wanted)


def user_roles(user) -> set[str]:
    if isinstance(user, AnonymousUser) or not user.is_authenticated:
        return set()
    if user.is_superuser:
        return set(ROLES)
    cached = getattr(user, "_huifang_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        user._huifang_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def role_required(*roles: str) -> Callable:
    """View decorator: log in first, then 403 unless the user has one of `roles`."""
    from django.contrib.auth.decorators import login_required

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator
