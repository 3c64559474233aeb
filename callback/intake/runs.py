"""Import runs: the one service the upload page, the management commands, the API and the demo go
through. A run records who started what, its phase and progress while it runs, and its counts and
report when done; whatever happens, it ends `done` or `failed`, never left `running` (a run whose
process died is failed by the sweep: `fail_interrupted`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import ImportKind, ImportRun, ImportStatus
from .files import IntakeError
from .policies import import_policies, import_policy_records
from .registries import import_registry
from .result import ImportResult, Progress


def create_run(
    *,
    kind: str,
    source: str,
    filename: str,
    stored_path: str = "",
    dry_run: bool = False,
    user: User | None = None,
) -> ImportRun:
    return ImportRun.objects.create(
        kind=kind,
        source=source,
        filename=filename[:255],
        stored_path=stored_path,
        dry_run=dry_run,
        started_by=user,
    )


def run_import(run_id: int) -> None:
    """Job: run the stored ImportRun (uploaded file under MEDIA_ROOT/imports) and record its report."""
    run = ImportRun.objects.get(pk=run_id)
    if run.status in (ImportStatus.DONE, ImportStatus.FAILED):
        return  # a job that runs twice leaves the same state
    execute_run(run, path=Path(settings.MEDIA_ROOT) / run.stored_path)


def execute_run(run: ImportRun, *, path: str | Path, progress: Progress | None = None) -> ImportResult | None:
    """Import the file of `run` and record counts, report, status; returns None when the file failed."""
    if run.kind == ImportKind.POLICIES:
        return _execute(
            run,
            lambda: import_policies(
                path=path, name=run.filename, dry_run=run.dry_run, run=run, progress=progress
            ),
        )
    return _execute(
        run,
        lambda: import_registry(
            kind=run.kind, path=path, name=run.filename, dry_run=run.dry_run, run=run, progress=progress
        ),
    )


def import_policy_batch(
    *, records: list[dict[str, str]], dry_run: bool, user: User | None
) -> tuple[ImportRun, ImportResult]:
    """The API's batch of policies, as a run of its own (items report per record)."""
    run = create_run(
        kind=ImportKind.POLICIES,
        source=ImportRun.Source.API,
        filename=f"api ({len(records)})",
        dry_run=dry_run,
        user=user,
    )
    result = _execute(run, lambda: import_policy_records(records=records, dry_run=dry_run, run=run))
    if result is None:  # records have no file that could be unreadable
        raise IntakeError(run.error)
    return run, result


def _execute(run: ImportRun, work: Callable[[], ImportResult]) -> ImportResult | None:
    run.status, run.heartbeat_at = ImportStatus.RUNNING, timezone.now()
    ImportRun.objects.filter(pk=run.pk).update(status=ImportStatus.RUNNING, heartbeat_at=run.heartbeat_at)
    try:
        result = work()
    except IntakeError as exc:
        _fail(run, str(exc))
        return None
    except Exception as exc:
        _fail(run, repr(exc)[:2000])
        raise
    record_result(run, result)
    return result


def fail_interrupted(*, now: dt.datetime | None = None) -> int:
    """Runs that stopped without a word (the process killed, the server restarted) are marked failed
    once they have shown no sign of life for IMPORT_STALE_MINUTES, so the imports page does not say
    "running" for ever. The merge is one transaction: such a file was saved whole or not at all, and
    importing it again skips what was saved (unchanged rows). Run by the sweep; returns how many."""
    now = now or timezone.now()
    stale = now - dt.timedelta(minutes=settings.IMPORT_STALE_MINUTES)
    silent = Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, created_at__lt=stale)
    error = _(
        "The import stopped without finishing (its process was stopped or the server restarted). "
        "Import the file again: rows already saved are recognised as unchanged."
    )
    return ImportRun.objects.filter(silent, status=ImportStatus.RUNNING).update(
        status=ImportStatus.FAILED, error=error, finished_at=now
    )


def _fail(run: ImportRun, error: str) -> None:
    run.status, run.error, run.finished_at = ImportStatus.FAILED, error, timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])


def record_result(run: ImportRun, result: ImportResult) -> None:
    run.status, run.finished_at = ImportStatus.DONE, timezone.now()
    run.rows_read, run.created, run.updated = result.rows_read, result.created, result.updated
    run.unchanged, run.rejected = result.unchanged, result.rejected
    run.report = {**result.report(), "phase": "done"}
    run.save()
