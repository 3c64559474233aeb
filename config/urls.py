from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from callback.auth import LoginView, PasswordChangeView

urlpatterns = [
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", include("callback.api.urls")),
    path("", include("callback.urls")),
]

admin.site.site_header = "Huifang 回访"
admin.site.site_title = "Huifang"

if settings.REDIS_URL:  # the django-rq dashboard needs a Redis to show
    urlpatterns.insert(-1, path("django-rq/", include("django_rq.urls")))
