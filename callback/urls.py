from django.urls import path

from .views import flags, home, policies

urlpatterns = [
    path("", home.home, name="home"),
]
urlpatterns += flags.urlpatterns
urlpatterns += policies.urlpatterns
