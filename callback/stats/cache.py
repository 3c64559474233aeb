"""A short-lived cache of the statistics shared by every supervisor (Redis when configured).

A month or a year of a million tasks takes the database a second or more to aggregate; supervisors
open the same periods over and over, and figures a minute old are as good. The cache key is the
selector, its period and its filters; the pages say how old the figures are.
"""

import hashlib
import json
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

T = TypeVar("T")


def cached(name: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, Any]:
    """`fn(*args, **kwargs)` from the cache when computed in the last STATS_CACHE_SECONDS; returns the
    value and when it was computed."""
    seconds = getattr(settings, "STATS_CACHE_SECONDS", 60)
    raw = json.dumps([name, [repr(a) for a in args], {k: repr(v) for k, v in sorted(kwargs.items())}])
    key = "stats:" + hashlib.sha1(raw.encode()).hexdigest()
    if seconds > 0:
        hit = cache.get(key)
        if hit is not None:
            return hit
    value = (fn(*args, **kwargs), timezone.now())
    if seconds > 0:
        cache.set(key, value, seconds)
    return value
