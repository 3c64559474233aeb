from django.urls import path

from .views import flags, home, policies
from .views import calls, home, scripts, workspace

urlpatterns = [
    path("", home.home, name="home"),
]
urlpatterns += flags.urlpatterns
urlpatterns += policies.urlpatterns
urlpatterns += workspace.urlpatterns
urlpatterns += scripts.urlpatterns
urlpatterns += calls.urlpatterns
