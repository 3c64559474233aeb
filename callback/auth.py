"""Login throttling: after LOGIN_FAILURE_LIMIT failures for a username or a client address within
LOGIN_LOCKOUT_SECONDS, further attempts are refused until the window passes (Django cache: Redis
when configured, so every web process shares the count)."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .audit import client_ip, record_audit


def _keys(username: str, ip: str | None) -> list[str]:
    return [f"login-fail:user:{(username or '').strip().lower()}", f"login-fail:ip:{ip or '-'}"]


def is_locked_out(username: str, ip: str | None) -> bool:
    return any((cache.get(key) or 0) >= settings.LOGIN_FAILURE_LIMIT for key in _keys(username, ip))


def note_failure(username: str, ip: str | None) -> None:
    for key in _keys(username, ip):
        cache.add(key, 0, settings.LOGIN_LOCKOUT_SECONDS)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, settings.LOGIN_LOCKOUT_SECONDS)


def clear_failures(username: str, ip: str | None) -> None:
    cache.delete_many(_keys(username, ip))


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "locked_out": _("Too many failed logins. Try again in %(minutes)s minutes."),
    }

    def clean(self):
        username = self.data.get("username", "")
        ip = client_ip(self.request)
        if is_locked_out(username, ip):
            raise ValidationError(
                self.error_messages["locked_out"],
                code="locked_out",
                params={"minutes": settings.LOGIN_LOCKOUT_SECONDS // 60},
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            note_failure(username, ip)
            record_audit(
                user=None, action="login_failed", detail={"username": username[:150]}, request=self.request
            )
            raise
        clear_failures(username, ip)
        return cleaned


class LoginView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm
    redirect_authenticated_user = True
