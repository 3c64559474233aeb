from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import flags, policies, queue
from . import stats as stats_api

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # Swagger UI sets inline styles from its own script: allowed on this one page, scripts stay 'self'.
    path(
        "docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api_schema")
        ),
        name="api_docs",
    ),
    path("v1/", include(policies.urlpatterns)),
    path("v1/", include(flags.urlpatterns)),
    path("v1/", include(queue.urlpatterns)),
    path("v1/", include(stats_api.urlpatterns)),
]
