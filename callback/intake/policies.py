"""Importing policies: a file (CSV or XLSX) or records (the API) → read once, staged, merged, screened.

Rows stream once: each is identified (policy_no, issue_date, a digest of the row), an unchanged row
(same digest as the stored policy) is counted and skipped before any parsing, the others are parsed
(policy_rows) and staged in batches (staging); one transaction then merges them (merge). No full-file
list is held in memory. Rejected rows — only those FORMATS.md names: no policy_no, the same policy_no
twice with different content, an issue_date that is not a date — are reported with their line number;
every other defect is imported and flagged.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import ImportKind, ImportRun, Policy
from . import staging
from .files import check_header, open_table
from .merge import merge_policies
from .policy_rows import POLICY_COLUMNS, identify_row
from .result import ImportResult, Progress, report_progress, set_phase


def import_policies(
    *,
    path: str | Path,
    name: str = "",
    dry_run: bool = False,
    run: ImportRun | None = None,
    progress: Progress | None = None,
    today: dt.date | None = None,
) -> ImportResult:
    """Import a policies file (CSV or XLSX); raises IntakeError before writing anything if unusable."""
    with open_table(path, name=name) as table:
        unknown = check_header(table.header, POLICY_COLUMNS)
        return _import_policy_rows(
            table.records(),
            unknown=unknown,
            dry_run=dry_run,
            run=run,
            progress=progress,
            position=table.position,
            total=table.total,
            today=today,
        )


def import_policy_records(
    *,
    records: Iterable[dict[str, str]],
    dry_run: bool = False,
    run: ImportRun | None = None,
    today: dt.date | None = None,
) -> ImportResult:
    """Import policies given as dicts of the FORMATS.md columns (the API); items report per record."""
    rows = (
        (index + 1, {k: "" if v is None else str(v) for k, v in record.items()})
        for index, record in enumerate(records)
    )
    return _import_policy_rows(
        rows,
        unknown=[],
        dry_run=dry_run,
        run=run,
        progress=None,
        position=lambda: 0,
        total=0,
        today=today,
        with_items=True,
    )


def _import_policy_rows(
    rows: Iterable[tuple[int, dict[str, str]]],
    *,
    unknown: list[str],
    dry_run: bool,
    run: ImportRun | None,
    progress: Progress | None,
    position: Callable[[], int],
    total: int,
    today: dt.date | None,
    with_items: bool = False,
) -> ImportResult:
    result = ImportResult(kind=ImportKind.POLICIES, unknown_columns=unknown, dry_run=dry_run)
    today = today or timezone.localdate()
    seen: dict[str, int] = {}  # policy_no → first line and digest: duplicates in one file
    last_report = started = time.monotonic()
    set_phase(run, "reading", result)
    pending: list[tuple[int, dict[str, str], str, str]] = []
    unchanged_items: list[tuple[int, str]] = []
    parser = staging.BatchParser(today=today)

    def stage_pending(cursor) -> None:
        """Parse and stage the pending rows whose digest differs from the stored policy's.

        Unchanged rows (the bulk of a nightly re-send) are counted and skipped before any parsing.
        """
        stored = dict(
            Policy.objects.filter(policy_no__in=[p[2] for p in pending]).values_list(
                "policy_no", "row_digest"
            )
        )
        work = []
        for line, row, policy_no, digest in pending:
            if stored.get(policy_no) == digest:
                result.unchanged += 1
                if with_items:
                    unchanged_items.append((line, policy_no))
                continue
            work.append((line, row, digest))
        # A file of more than one batch is parsed in worker processes while this one stages.
        if work:
            parser.submit(work, parallel=parser.parallel or len(pending) >= staging.BATCH_ROWS)
        pending.clear()
        for batch in parser.done():
            staging.write_batch(cursor, batch)

    with parser, connection.cursor() as cursor:
        staging.create_tables(cursor)
        for line, row in rows:
            result.rows_read += 1
            identity = identify_row(row)
            if isinstance(identity, str):
                result.reject(line=line, key=row.get("policy_no", "").strip(), reason=identity)
                if with_items:
                    result.items.append(
                        {
                            "line": line,
                            "policy_no": row.get("policy_no", ""),
                            "status": "rejected",
                            "reasons": [identity],
                        }
                    )
                continue
            policy_no, digest = identity
            # One int per policy_no (first line and 64 bits of the digest): a million fit in ~100 MB.
            key = int(digest[:16], 16)
            first = seen.get(policy_no)
            if first is not None:
                if first & 0xFFFFFFFFFFFFFFFF != key:
                    reason = _("policy_no %(no)s already on line %(line)s with different content") % {
                        "no": policy_no,
                        "line": first >> 64,
                    }
                    result.reject(line=line, key=policy_no, reason=reason)
                    status, reasons = "rejected", [reason]
                else:
                    result.unchanged += 1
                    status, reasons = "duplicate", []
                if with_items:
                    result.items.append(
                        {"line": line, "policy_no": policy_no, "status": status, "reasons": reasons}
                    )
                continue
            seen[policy_no] = (line << 64) | key
            pending.append((line, row, policy_no, digest))
            if len(pending) >= staging.BATCH_ROWS:
                stage_pending(cursor)
                if progress:
                    progress(result.rows_read, position(), total)
                if run is not None and time.monotonic() - last_report > 1:
                    last_report = time.monotonic()
                    report_progress(run, result, position(), total)
        stage_pending(cursor)
        for batch in parser.done(wait=True):
            staging.write_batch(cursor, batch)
        if progress:
            progress(result.rows_read, total or position(), total)
        seen.clear()
        result.seconds["reading"] = time.monotonic() - started
        started = time.monotonic()
        set_phase(run, "writing", result)
        merge_policies(
            cursor, result, dry_run=dry_run, with_items=with_items, unchanged_items=unchanged_items
        )
        result.seconds["writing"] = time.monotonic() - started - result.seconds.get("tasks", 0)
        staging.drop_tables(cursor)
    return result
