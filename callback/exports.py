"""Task lists out of Huifang: `manage.py export_tasks` (queue issue)."""

import csv
from collections.abc import Iterator
from pathlib import Path

from django.utils import timezone

from .models import CallbackTask

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


def task_rows(*, status: str = "", queue_code: str = "") -> Iterator[list[str]]:
    tasks = CallbackTask.objects.order_by("pk")
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
    for policy_no, st, queue, start, end, next_at, attempts, outcome in rows.iterator(chunk_size=5000):
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


def write_tasks(*, path: Path, status: str = "", queue_code: str = "") -> int:
    count = 0
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("tasks")
        sheet.append(TASK_COLUMNS)
        for row in task_rows(status=status, queue_code=queue_code):
            sheet.append(row)
            count += 1
        book.save(path)
        return count
    # UTF-8 with BOM: Excel in China opens it without garbling Chinese text.
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(TASK_COLUMNS)
        for row in task_rows(status=status, queue_code=queue_code):
            writer.writerow(row)
            count += 1
    return count
