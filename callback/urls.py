from django.urls import path

from .views import home, queue

urlpatterns = [
    path("", home.home, name="home"),
]
urlpatterns += queue.urlpatterns
