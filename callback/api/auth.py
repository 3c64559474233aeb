"""API tokens that expire (API_TOKEN_LIFETIME_DAYS) and die when their user's password changes."""

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed, Throttled


def token_lifetime() -> dt.timedelta:
    return dt.timedelta(days=settings.API_TOKEN_LIFETIME_DAYS)


class ExpiringTokenAuthentication(TokenAuthentication):
    """Token auth whose failures are audited and counted by django-axes like failed logins.

    A failure is counted under "api-token:<first 8 characters>" and the client address, so a client
    hammering with one dead token is locked out, never the other softphones behind the same proxy.
    """

    def authenticate(self, request):
        self._request = getattr(request, "_request", request)
        return super().authenticate(request)

    def authenticate_credentials(self, key):
        from axes.handlers.proxy import AxesProxyHandler

        request = getattr(self, "_request", None)
        credentials = {"username": f"api-token:{key[:8]}"}
        if request is not None and not AxesProxyHandler.is_allowed(request, credentials):
            raise Throttled(detail=_("Too many failed attempts with this token. Try again later."))
        try:
            user, token = super().authenticate_credentials(key)
        except AuthenticationFailed:
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
            raise
        if token.created + token_lifetime() <= timezone.now():
            token.delete()  # the client must ask for a new one (manage.py drf_create_token USER)
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
            raise AuthenticationFailed(_("Token expired."))
        return user, token


@receiver(pre_save, sender=get_user_model(), dispatch_uid="huifang_tokens_die_with_the_password")
def delete_tokens_on_password_change(sender, instance, update_fields=None, **kwargs) -> None:
    """A changed password ends every API session of the account, as it ends the web sessions."""
    if instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    old = sender.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    if old is not None and old != instance.password:
        Token.objects.filter(user_id=instance.pk).delete()
