"""One JSON shape for API errors: {"detail": "...", "errors": {field: [messages]}} and never a 500
for bad input."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.views import exception_handler as drf_exception_handler


class StrictSerializer(serializers.Serializer):
    """An input serializer that refuses fields it does not know (a typo must not pass silently,
    e.g. a `reason` sent with a correction request that takes none)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: [_("Unknown field.")] for key in unknown})
        return super().to_internal_value(data)


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and "detail" in data and len(data) == 1:
        response.data = {"detail": str(data["detail"]), "errors": {}}
    else:
        response.data = {"detail": "Invalid input.", "errors": data}
    return response
