"""Request guards that run before any view (trust issue #10).

A NUL byte cannot be stored in PostgreSQL text and means nothing in a path or a query, so a request
carrying one is refused with 400 here instead of failing later with a database error (a 500).
"""

from urllib.parse import unquote_to_bytes

from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

_FORM = "application/x-www-form-urlencoded"


def _has_nul(raw: str | bytes) -> bool:
    data = raw.encode("latin-1", "replace") if isinstance(raw, str) else raw
    return b"\x00" in data or b"\x00" in unquote_to_bytes(data)


class RejectNulBytesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        suspect = [request.META.get("PATH_INFO", ""), request.META.get("QUERY_STRING", "")]
        if request.content_type == _FORM and request.method in ("POST", "PUT", "PATCH"):
            suspect.append(request.body)  # a form body is small; file uploads are multipart
        if any(_has_nul(part) for part in suspect):
            message = _("The request contains a NUL byte.")
            if request.path_info.startswith("/api/"):
                return JsonResponse({"detail": message, "errors": {}}, status=400)
            return HttpResponseBadRequest(message)
        return self.get_response(request)
