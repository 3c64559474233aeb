"""Every way in, throttled and audited once: django-axes counts failed logins of the login page, the
Django admin's login, the old password of a password change and API tokens (axes works at the
authentication-backend level, so every `authenticate()` counts).

A failure locks the pair (username, client address) for LOGIN_LOCKOUT_SECONDS after
LOGIN_FAILURE_LIMIT failures: a call centre behind one proxy address is not locked out by someone
guessing at one account, and one account cannot be guessed at from one address. The client address
comes from `audit.client_ip` (REMOTE_ADDR, or the proxy header when the request came through a
TRUSTED_PROXIES address).
"""

import datetime as dt

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import ValidationError
from django.dispatch import receiver
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from .audit import record_audit


def failure_limit(request=None, credentials=None) -> int:
    """AXES_FAILURE_LIMIT: read at each attempt, so LOGIN_FAILURE_LIMIT keeps its meaning."""
    return settings.LOGIN_FAILURE_LIMIT


def cool_off(request=None) -> dt.timedelta:
    """AXES_COOLOFF_TIME: LOGIN_LOCKOUT_SECONDS, read at each attempt."""
    return dt.timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)


def locked_out(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: what a locked-out client is told (429), as JSON for the API."""
    message = _("Too many failed logins. Try again in %(minutes)s minutes.") % {
        "minutes": max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)
    }
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": message, "errors": {}}, status=429)
    return render(request, "registration/locked_out.html", {"message": message}, status=429)


@receiver(user_login_failed, dispatch_uid="huifang_audit_login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = str((credentials or {}).get("username") or "")[:150]
    path = getattr(request, "path_info", "") if request is not None else ""
    record_audit(
        user=None, action="login_failed", detail={"username": username, "path": path}, request=request
    )


@receiver(user_logged_in, dispatch_uid="huifang_audit_login")
def audit_login(sender, request, user, **kwargs) -> None:
    record_audit(
        user=user, action="login", detail={"path": getattr(request, "path_info", "")}, request=request
    )


class RequestAxesBackend(AxesStandaloneBackend):
    """django-axes' backend for requests; `authenticate()` called without one (a management command,
    Django's test client's `login()`) is not a way in from outside and is left to the next backend."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True


class CheckedPasswordChangeForm(PasswordChangeForm):
    """The old password is checked by `authenticate()`, so guessing it is throttled and audited
    like a login (Django's form calls `check_password`, which axes never sees)."""

    def __init__(self, user, *args, request=None, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        checked = authenticate(self.request, username=self.user.get_username(), password=old_password)
        if checked is None or checked.pk != self.user.pk:
            raise ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = CheckedPasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}
