from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse

from ..roles import ADMIN, AGENT, SUPERVISOR, user_roles

# Where each role starts its day, most specific first.
START_PAGES = [(AGENT, "workspace"), (SUPERVISOR, "dashboard"), (ADMIN, "import_list")]


@login_required
def home(request):
    roles = user_roles(request.user)
    for role, url_name in START_PAGES:
        if role in roles:
            try:
                return redirect(reverse(url_name))
            except NoReverseMatch:
                break
    return render(request, "callback/home.html", {"roles": sorted(roles)})
