from django.urls import path

from .views import home, scripts, workspace

urlpatterns = [
    path("", home.home, name="home"),
]
urlpatterns += workspace.urlpatterns
urlpatterns += scripts.urlpatterns
