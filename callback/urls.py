from django.urls import path

from .views import calls, flags, home, policies, queue, scripts, workspace

urlpatterns = [
    path("", home.home, name="home"),
]
urlpatterns += flags.urlpatterns
urlpatterns += policies.urlpatterns
urlpatterns += workspace.urlpatterns
urlpatterns += scripts.urlpatterns
urlpatterns += calls.urlpatterns
urlpatterns += queue.urlpatterns

from .views import imports  # noqa: E402

urlpatterns += imports.urlpatterns
