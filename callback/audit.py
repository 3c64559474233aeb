"""The audit trail: who saw or exported personal data, who changed what."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

from .models import AuditEvent


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def _is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, unless that is one of TRUSTED_PROXIES (a TLS proxy or load
    balancer), then the right-most address of the CLIENT_IP_HEADER header that is not a trusted proxy.

    Only a trusted proxy's header is believed: anyone else could write any address into it. Also
    django-axes' AXES_CLIENT_IP_CALLABLE, so lockouts and the audit trail name the same client.
    """
    if request is None:
        return None
    meta = request.META
    remote = meta.get("REMOTE_ADDR")
    if not remote or not settings.TRUSTED_PROXIES or not _is_trusted_proxy(remote):
        return remote
    chain = [part.strip() for part in meta.get(settings.CLIENT_IP_HEADER, "").split(",") if part.strip()]
    for address in reversed(chain):
        if not _is_trusted_proxy(address):
            try:
                return str(ipaddress.ip_address(address))
            except ValueError:
                return remote  # a forged or broken header: fall back to the proxy itself
    return remote


@dataclass(frozen=True, slots=True)
class AuditContext:
    """Where an audited action came from. A view makes it from its request and passes it to the
    service, so that services take plain values, never the HTTP request."""

    ip: str | None = None

    @classmethod
    def of(cls, request) -> AuditContext:
        return cls(ip=client_ip(request))


def record_audit(
    *,
    user,
    action: str,
    obj=None,
    detail: dict | None = None,
    context: AuditContext | None = None,
    request=None,
    ip: str | None = None,
) -> AuditEvent:
    """Record an audit event; services pass `context` (or an `ip`), a view recording for itself may
    pass `request`."""
    context = context or AuditContext(ip=ip or client_ip(request))
    return AuditEvent.objects.create(
        user=user if getattr(user, "is_authenticated", False) else None,
        action=action,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        detail=detail or {},
        ip=context.ip,
    )
