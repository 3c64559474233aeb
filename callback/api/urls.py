from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import flags, queue
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
]
urlpatterns += [path("v1/", include(flags.urlpatterns))]
urlpatterns += [path("v1/", include(queue.urlpatterns))]

from django.urls import include  # noqa: E402

from . import policies  # noqa: E402

urlpatterns += [path("v1/", include(policies.urlpatterns))]
