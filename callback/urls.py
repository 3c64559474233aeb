from django.urls import path

from .views import calls, home, scripts, workspace

urlpatterns = [
    path("", home.home, name="home"),
]
urlpatterns += workspace.urlpatterns
urlpatterns += scripts.urlpatterns
urlpatterns += calls.urlpatterns
