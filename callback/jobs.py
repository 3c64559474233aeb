"""Background work: through django-rq when REDIS_URL is set, else run inline in the caller.

django-rq's synchronous mode still talks to Redis, so the embedded default (no Redis) calls the job
function directly. Job functions must be importable by dotted path and idempotent: the database is
the truth, a job that runs twice (or after Redis was flushed) leaves the same state.
"""

from collections.abc import Callable

from django.conf import settings


def enqueue(func: Callable, *args, **kwargs) -> None:
    if settings.REDIS_URL:
        import django_rq

        django_rq.get_queue("default").enqueue(func, *args, **kwargs)
    else:
        func(*args, **kwargs)
