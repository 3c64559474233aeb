"""Django admin, one module per capability: registries and intake, queues and rules."""

from . import fallback, registries, staff, telephony, users  # noqa: F401
