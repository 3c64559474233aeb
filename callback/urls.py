from django.urls import path

from .telephony import views as telephony_views
from .views import (
    calling,
    calls,
    duties,
    ecallback,
    flags,
    home,
    imports,
    policies,
    scripts,
    supervision,
    workspace,
)
from .views import stats as stats_views

urlpatterns = [
    path("", home.home, name="home"),
]
urlpatterns += imports.urlpatterns
urlpatterns += flags.urlpatterns
urlpatterns += policies.urlpatterns
urlpatterns += workspace.urlpatterns
urlpatterns += scripts.urlpatterns
urlpatterns += calls.urlpatterns
urlpatterns += stats_views.urlpatterns
urlpatterns += supervision.urlpatterns
urlpatterns += duties.urlpatterns
urlpatterns += ecallback.urlpatterns
urlpatterns += telephony_views.urlpatterns
urlpatterns += calling.urlpatterns
