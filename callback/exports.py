"""Lists out of Huifang: flags for branches to correct (FORMATS.md, files out) and callback tasks.
CSV (UTF-8 with BOM) or XLSX, one row per flag or task.

Rows stream from a database cursor in chunks and go straight to the file, so a million flags never
sit in memory. The same functions serve `manage.py export_flags` and the export buttons of the
flag list. Every export is audited: who, when, which filter, how many rows.

Every cell of every export goes through `spreadsheet_cell`: imported text such as `=HYPERLINK(…)`
must never become a formula in the spreadsheet that opens it (OWASP "CSV injection"). New exports
write through `csv_chunks` / `write_csv` / `write_xlsx`, which apply it.
"""

import csv
import io
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from django.db.models import F, FilteredRelation, Q
from django.utils import timezone

from verification.vocab import PartyRole

from .audit import AuditContext, record_audit
from .flags import filters_for_audit, flag_list
from .models import CallbackTask

# (column, where it comes from). The first seven are the contract (FORMATS.md); the rest help a
# branch find the sale.
_COLUMNS = [
    ("policy_no", "policy__policy_no"),
    ("party", "party"),
    ("field", "field"),
    ("code", "code"),
    ("detail", "detail"),
    ("status", "status"),
    ("raised_at", "raised_at"),
    ("branch_code", "policy__branch_code"),
    ("channel", "policy__channel"),
    ("agent_code", "policy__agent_code"),
    ("agent_name", "policy__agent_name"),
    ("applicant_name", "applicant_name"),
    # For the finance department (fee holds, 第八条): whose outlet, and until when the branch may correct.
    ("outlet_code", "policy__outlet_code"),
    ("correction_due", "correction_due"),
]
EXPORT_COLUMNS = [column for column, _ in _COLUMNS]
_SOURCE = [source for _, source in _COLUMNS]
RAISED_AT = EXPORT_COLUMNS.index("raised_at")
APPLICANT_NAME = EXPORT_COLUMNS.index("applicant_name")
CORRECTION_DUE = EXPORT_COLUMNS.index("correction_due")
CHUNK_SIZE = 2000
CSV_BOM = "\ufeff"  # Excel in China opens UTF-8 CSV correctly only with it


# A cell a spreadsheet evaluates when its first character is one of these (OWASP CSV injection):
# = + - @ and the tab / carriage return that some programs skip before looking.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
# Control characters XLSX (XML 1.0) cannot hold; openpyxl raises on them instead of writing.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def spreadsheet_cell(value: Any) -> str:
    """`value` as the text of an exported cell that no spreadsheet will evaluate.

    Text a spreadsheet would read as a formula gets a leading apostrophe (shown as text by Excel,
    WPS and LibreOffice); plain numbers such as "-5" or "+8613800138000" stay as they are.
    """
    if value is None:
        return ""
    text = str(value)
    stripped = text.lstrip(" \u3000")
    if stripped[:1] in FORMULA_TRIGGERS and not _PLAIN_NUMBER.fullmatch(stripped):
        return "'" + text
    return text


def flag_export_rows(*, filters: Mapping[str, Any] | None = None) -> Iterator[list[str]]:
    """The export rows for `filters`, streamed from the database (server-side cursor on PostgreSQL).

    Ordered by policy, so a branch sees all flags of a policy together. The applicant's name comes
    from a join, not a per-row subquery: on a million flags that halves the database time.
    """
    applicant = FilteredRelation(
        "policy__parties",
        condition=Q(policy__parties__role=PartyRole.APPLICANT, policy__parties__seq=0),
    )
    rows = (
        flag_list(filters=filters)
        .order_by("policy_id", "id")
        .annotate(applicant=applicant, applicant_name=F("applicant__name"))
        .values_list(*_SOURCE)
        .iterator(chunk_size=CHUNK_SIZE)
    )
    local = timezone.get_default_timezone()
    for row in rows:
        out = list(row)
        out[RAISED_AT] = row[RAISED_AT].astimezone(local).isoformat(timespec="seconds")
        if out[APPLICANT_NAME] is None:  # a policy without an applicant row
            out[APPLICANT_NAME] = ""
        due = row[CORRECTION_DUE]
        out[CORRECTION_DUE] = due.isoformat() if due else ""
        yield out


def csv_chunks(rows: Iterable[list[str]], columns: list[str] = EXPORT_COLUMNS) -> Iterator[str]:
    """CSV text in pieces of about CHUNK_SIZE rows, starting with the BOM and the header."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(CSV_BOM)
    writer.writerow([spreadsheet_cell(c) for c in columns])
    for n, row in enumerate(rows, start=1):
        writer.writerow([spreadsheet_cell(c) for c in row])
        if n % CHUNK_SIZE == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


class _Counter:
    def __init__(self, rows: Iterable[list[str]]):
        self.rows, self.count = rows, 0

    def __iter__(self) -> Iterator[list[str]]:
        for row in self.rows:
            self.count += 1
            yield row


def write_xlsx(
    *,
    rows: Iterable[list[str]],
    stream: BinaryIO | str | Path,
    columns: list[str] = EXPORT_COLUMNS,
    title="flags",
) -> None:
    """An XLSX workbook with one sheet; openpyxl's write-only mode keeps rows out of memory."""
    write_workbook(sheets=[(title, columns, rows)], stream=stream)


def write_workbook(
    *, sheets: Iterable[tuple[str, list[str], Iterable[list[Any]]]], stream: BinaryIO | str | Path
) -> None:
    """An XLSX workbook of several sheets, each (title, header row, rows): the one place cells are
    written, so every export (flags, tasks, the management reports) is written the same way.

    Every text cell is written as a string (never a formula or an error value), neutralised as in CSV.
    Integers (the counts of a report) stay numbers: a number cannot carry a formula.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    for title, columns, rows in sheets:
        sheet = workbook.create_sheet(title[:31])  # Excel's limit on a sheet name

        def cells(values, sheet=sheet):
            out = []
            for value in values:
                if isinstance(value, int) and not isinstance(value, bool):
                    out.append(WriteOnlyCell(sheet, value=value))
                    continue
                cell = WriteOnlyCell(sheet, value=_XML_ILLEGAL.sub("", spreadsheet_cell(value)))
                cell.data_type = "s"  # openpyxl would make "=…" a formula and "#N/A" an error
                out.append(cell)
            return out

        sheet.append(cells(columns))
        for row in rows:
            sheet.append(cells(row))
    workbook.save(stream)


def export_format(path: str | Path) -> str:
    return "xlsx" if str(path).lower().endswith(".xlsx") else "csv"


def export_flags(
    *,
    filters: Mapping[str, Any] | None,
    output: str | Path,
    user=None,
    context: AuditContext | None = None,
    progress=None,
) -> int:
    """Write the flags matching `filters` to `output` (XLSX when it ends in .xlsx, else CSV);
    audit the export and return the number of rows written."""
    filters = filters or {}
    fmt = export_format(output)
    rows = _Counter(flag_export_rows(filters=filters))
    source: Iterable[list[str]] = progress(rows) if progress else rows
    if fmt == "xlsx":
        write_xlsx(rows=source, stream=output)
    else:
        write_csv(rows=source, path=output)
    audit_export(user=user, filters=filters, fmt=fmt, rows=rows.count, target=str(output), context=context)
    return rows.count


def export_flags_xlsx_stream(
    *, filters: Mapping[str, Any] | None, user, context: AuditContext | None = None
) -> BinaryIO:
    """The flags matching `filters` as an XLSX workbook in an open temporary file (audited), for a
    download: the file has no name left on disk, its data lives until the stream is closed."""
    handle = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)  # noqa: SIM115 - reopened below
    handle.close()
    try:
        export_flags(filters=filters, output=handle.name, user=user, context=context)
        return open(handle.name, "rb")  # noqa: SIM115 - the caller (FileResponse) closes it
    finally:
        os.unlink(handle.name)


def write_csv(*, rows: Iterable[list[str]], path: str | Path, columns: list[str] = EXPORT_COLUMNS) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        for chunk in csv_chunks(rows, columns):
            handle.write(chunk)


def audit_export(
    *,
    user,
    filters: Mapping[str, Any],
    fmt: str,
    rows: int | None,
    target: str = "",
    context: AuditContext | None = None,
):
    detail: dict[str, Any] = {"filter": filters_for_audit(filters), "format": fmt}
    if rows is not None:
        detail["rows"] = rows
    if target:
        detail["target"] = target
    return record_audit(user=user, action="export_flags", detail=detail, context=context)


TASK_COLUMNS = [
    "policy_no",
    "status",
    "queue",
    "window_start",
    "window_end",
    "next_attempt_at",
    "attempts",
    "outcome",
]


def task_export_rows(*, status: str = "", queue_code: str = "", tasks=None) -> Iterator[list[str]]:
    """One row per task; `tasks` narrows them (a statistics drill-down)."""
    tasks = (CallbackTask.objects.all() if tasks is None else tasks).order_by("pk")
    if status:
        tasks = tasks.filter(status=status)
    if queue_code:
        tasks = tasks.filter(queue__code=queue_code)
    rows = tasks.values_list(
        "policy__policy_no",
        "status",
        "queue__code",
        "window_start",
        "window_end",
        "next_attempt_at",
        "attempts",
        "outcome",
    )
    for policy_no, st, queue, start, end, next_at, attempts, outcome in rows.iterator(chunk_size=CHUNK_SIZE):
        yield [
            policy_no,
            st,
            queue or "",
            start.isoformat() if start else "",
            end.isoformat() if end else "",
            timezone.localtime(next_at).strftime("%Y-%m-%d %H:%M") if next_at else "",
            str(attempts),
            outcome,
        ]


def export_tasks(*, output: str | Path, status: str = "", queue_code: str = "", user=None) -> int:
    """Write one row per callback task to `output` (XLSX when it ends in .xlsx, else CSV); audited."""
    rows = _Counter(task_export_rows(status=status, queue_code=queue_code))
    if export_format(output) == "xlsx":
        write_xlsx(rows=rows, stream=output, columns=TASK_COLUMNS, title="tasks")
    else:
        write_csv(rows=rows, path=output, columns=TASK_COLUMNS)
    record_audit(
        user=user,
        action="export_tasks",
        detail={"filter": {"status": status, "queue": queue_code}, "rows": rows.count, "target": str(output)},
    )
    return rows.count


ATTEMPT_COLUMNS = ["policy_no", "started_at", "ended_at", "agent", "channel", "outcome"]


def attempt_export_rows(attempts) -> Iterator[list[str]]:
    """One row per call of the `attempts` queryset (the calls list under a statistics filter)."""
    rows = attempts.order_by("pk").values_list(
        "task__policy__policy_no", "started_at", "ended_at", "agent__username", "channel", "outcome"
    )
    for policy_no, started, ended, agent, channel, outcome in rows.iterator(chunk_size=CHUNK_SIZE):
        yield [
            policy_no,
            timezone.localtime(started).strftime("%Y-%m-%d %H:%M:%S") if started else "",
            timezone.localtime(ended).strftime("%Y-%m-%d %H:%M:%S") if ended else "",
            agent or "",
            channel,
            outcome,
        ]
