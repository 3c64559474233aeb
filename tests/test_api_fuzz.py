"""schemathesis against the API's own OpenAPI schema: generated requests (valid and not) never get a
server error (trust issue #10). Bounded: a few examples per operation, about a minute in all."""

import json

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from .factories import UserFactory
from .factories.scripts import due_task, serving_queue

# Committed per request, as in production: a policies batch stages in temporary tables, and a
# hundred batches in one test transaction exhaust PostgreSQL's lock table ("out of shared memory").
pytestmark = pytest.mark.django_db(transaction=True)


def _schema():
    # The same document /api/schema/ serves (which needs a login), generated without a request.
    raw = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = get_wsgi_application()
    return loaded


schema = _schema()


@pytest.fixture
def token_headers():
    from django.core import signals
    from django.db import close_old_connections
    from rest_framework.authtoken.models import Token

    # As django.test.Client does: the request must not close the test's connection (its transaction).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)

    # A superuser has every role: the agents' queue and the supervisors' flags are both reachable.
    root = UserFactory(username="fuzz-root", is_superuser=True, is_staff=True)
    due_task(serving_queue(root))
    yield {"Authorization": f"Token {Token.objects.get_or_create(user=root)[0].key}"}
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_never_answers_a_server_error(case, token_headers):
    case.call_and_validate(headers=token_headers, checks=[not_a_server_error])
