from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from .roles import ADMIN, AGENT, SUPERVISOR, user_roles

# (url name, label, roles that see it). Pages that are not installed yet are skipped.
NAVIGATION = [
    ("workspace", _("Workspace"), {AGENT}),
    ("dashboard", _("Live queue"), {SUPERVISOR, ADMIN}),
    ("task_list", _("Callback tasks"), {SUPERVISOR, ADMIN}),
    ("attempt_list", _("Recent calls"), {SUPERVISOR, ADMIN}),
    ("stats", _("Statistics"), {SUPERVISOR, ADMIN}),
    ("flag_list", _("Contact flags"), {SUPERVISOR, ADMIN}),
    ("import_list", _("Imports"), {SUPERVISOR, ADMIN}),
    ("duties_home", _("Management duties"), {SUPERVISOR, ADMIN}),
    ("script_list", _("Scripts"), {ADMIN}),
    ("admin:index", _("Settings"), {ADMIN}),
]


def navigation(request):
    roles = user_roles(getattr(request, "user", None)) if hasattr(request, "user") else set()
    items = []
    for url_name, label, allowed in NAVIGATION:
        if not roles & allowed:
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        items.append({"url": url, "label": label, "active": request.path.startswith(url) and url != "/"})
    return {"nav_items": items, "user_roles": roles}
