"""Django admin, one module per capability: registries and intake, queues and rules."""

from . import registries, staff, telephony, users  # noqa: F401
