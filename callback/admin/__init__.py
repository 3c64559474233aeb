"""Django admin, one module per capability: registries and intake, queues and rules."""

from . import ecallback, registries, staff, telephony, users  # noqa: F401
