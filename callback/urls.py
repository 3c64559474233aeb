from django.urls import path

from .views import home

urlpatterns = [
    path("", home.home, name="home"),
]

from .views import imports  # noqa: E402

urlpatterns += imports.urlpatterns
