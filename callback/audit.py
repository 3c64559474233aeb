"""The audit trail: who saw or exported personal data, who changed what."""

from .models import AuditEvent


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


def record_audit(
    *, user, action: str, obj=None, detail: dict | None = None, request=None, ip: str | None = None
) -> AuditEvent:
    return AuditEvent.objects.create(
        user=user if getattr(user, "is_authenticated", False) else None,
        action=action,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        detail=detail or {},
        ip=ip or client_ip(request),
    )
