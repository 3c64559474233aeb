"""The audit trail: who saw or exported personal data, who changed what."""

from __future__ import annotations

from dataclasses import dataclass

from .models import AuditEvent


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


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
) -> AuditEvent:
    """Record an audit event; services pass `context`, a view recording for itself may pass `request`."""
    context = context or AuditContext.of(request)
    return AuditEvent.objects.create(
        user=user if getattr(user, "is_authenticated", False) else None,
        action=action,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        detail=detail or {},
        ip=context.ip,
    )
