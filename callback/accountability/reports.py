"""Report exports of the management pages: CSV or XLSX through callback/exports.py, always audited."""

import io
from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone

from .. import exports
from ..audit import record_audit

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cells(rows: Iterable[list[Any]]):
    """Counts stay numbers (a finance sheet sums them); everything else is text."""
    for row in rows:
        yield [
            v if isinstance(v, int) and not isinstance(v, bool) else ("" if v is None else str(v))
            for v in row
        ]


def report_response(
    *,
    request,
    report: str,
    sheets: list[tuple[str, list[str], Iterable[list[Any]]]],
    fmt: str,
    filters: dict[str, Any],
) -> HttpResponse:
    """The report as a download, written to the audit trail first (who, when, which report and filter).

    CSV carries the first sheet; XLSX every sheet.
    """
    fmt = "xlsx" if fmt == "xlsx" else "csv"
    record_audit(
        user=request.user,
        action="export_report",
        detail={"report": report, "format": fmt, "filter": {k: str(v) for k, v in filters.items() if v}},
        request=request,
    )
    name = f"{report}-{timezone.localtime():%Y%m%d-%H%M}.{fmt}"
    if fmt == "csv":
        title, columns, rows = sheets[0]
        response = StreamingHttpResponse(
            exports.csv_chunks(_cells(rows), columns), content_type="text/csv; charset=utf-8"
        )
    else:
        buffer = io.BytesIO()
        exports.write_workbook(
            sheets=[(title, columns, _cells(rows)) for title, columns, rows in sheets], stream=buffer
        )
        response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
