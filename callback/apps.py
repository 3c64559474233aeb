from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallbackConfig(AppConfig):
    name = "callback"
    verbose_name = _("Callbacks")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from .roles import sync_role_permissions

        post_migrate.connect(sync_role_permissions, sender=self, dispatch_uid="huifang_sync_roles")
        from .api import auth  # noqa: F401  (API tokens die with a password change)
