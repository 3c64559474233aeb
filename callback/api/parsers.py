"""JSON in: refused with 400 when nested deeper than any of our payloads, or holding a NUL byte.

DRF's own JSONParser lets a 1,000-deep document raise RecursionError (a 500) and passes "\\u0000" on
to PostgreSQL, which cannot store it (another 500).
"""

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Our deepest payload is an attempt's answers: {"answers": {"identity": {"birth_date": "…"}}}.
MAX_DEPTH = 20


def check_json(data) -> None:
    """ParseError when `data` is nested deeper than MAX_DEPTH or has a NUL in a key or a string."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise ParseError(_("The JSON contains a NUL character."))
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise ParseError(_("The JSON is nested too deeply."))
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and "\x00" in key:
                raise ParseError(_("The JSON contains a NUL character."))
            pending.append((item, depth + 1))


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(_("The JSON is nested too deeply.")) from exc
        check_json(data)
        return data
