import os

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import cache

from callback.queue import clear_config_cache
from callback.roles import ADMIN, AGENT, SUPERVISOR

from . import factories


def pytest_sessionstart(session):
    """With REQUIRE_SERVICES=1 (CI), fail at once unless PostgreSQL and Redis answer."""
    if os.environ.get("REQUIRE_SERVICES") != "1":
        return
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        pytest.exit(f"REQUIRE_SERVICES=1 but DATABASE_URL is not PostgreSQL ({engine})", returncode=3)
    if not settings.REDIS_URL:
        pytest.exit("REQUIRE_SERVICES=1 but REDIS_URL is not set", returncode=3)
    import psycopg
    import redis

    db = settings.DATABASES["default"]
    try:
        psycopg.connect(
            host=db["HOST"],
            port=db["PORT"] or 5432,
            user=db["USER"],
            password=db["PASSWORD"] or None,
            dbname="postgres",
            connect_timeout=5,
        ).close()
    except Exception as exc:  # noqa: BLE001 - any failure means the service is unusable
        pytest.exit(f"PostgreSQL unreachable: {exc}", returncode=3)
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=5).ping()
    except Exception as exc:  # noqa: BLE001
        pytest.exit(f"Redis unreachable at {settings.REDIS_URL}: {exc}", returncode=3)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 costs most of a second per user on these machines; tests need no slow hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english(settings):
    """Tests read messages in English; tests of the Chinese UI ask for zh-hans themselves."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Login throttling counts live in the cache (Redis in CI): start every test at zero. The queue's
    # per-process configuration cache too: a rolled-back test leaves no save signal to clear it.
    cache.clear()
    clear_config_cache()
    yield


@pytest.fixture
def agent_user(db):
    return factories.UserFactory(username="agent1", role=AGENT)


@pytest.fixture
def supervisor_user(db):
    return factories.UserFactory(username="super1", role=SUPERVISOR)


@pytest.fixture
def admin_user(db):
    return factories.UserFactory(username="admin1", role=ADMIN, is_staff=True)


@pytest.fixture
def agent_client(client, agent_user):
    client.force_login(agent_user)
    return client


@pytest.fixture
def supervisor_client(client, supervisor_user):
    client.force_login(supervisor_user)
    return client


@pytest.fixture
def admin_client_(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def roles(db):
    return {name: Group.objects.get(name=name) for name in (AGENT, SUPERVISOR, ADMIN)}


@pytest.fixture
def q():
    """A queue served by the agents' team (the default queue)."""
    from .factories.queue import queue

    return queue("main")


@pytest.fixture
def agent(q):
    """An agent in the team that serves `q`."""
    from .factories.queue import agent_in

    return agent_in(q, "li")
