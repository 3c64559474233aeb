"""What an import reports: counts, rejections, flags, timings, and its phase and progress on its run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone

from ..models import ImportRun

MAX_REPORTED_REJECTIONS = 1000

Progress = Callable[[int, int, int], None]  # rows read, bytes (or rows) done, total (0 = unknown)


@dataclass
class ImportResult:
    kind: str
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejections: list[dict] = field(default_factory=list)
    rejected: int = 0
    unknown_columns: list[str] = field(default_factory=list)
    flags_raised: Counter = field(default_factory=Counter)
    flags_resolved: Counter = field(default_factory=Counter)
    dry_run: bool = False
    # Per-row outcome for small batches (the API): {"line", "policy_no", "status", "reasons"}.
    items: list[dict] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # time per phase: reading, writing, tasks

    def reject(self, *, line: int, key: str, reason: str) -> None:
        self.rejected += 1
        if len(self.rejections) < MAX_REPORTED_REJECTIONS:
            # The report is JSON in PostgreSQL, which cannot hold a NUL: an imported one is dropped.
            key, reason = key.replace("\x00", ""), reason.replace("\x00", "")
            self.rejections.append({"line": line, "policy_no": key, "reason": reason})

    def report(self) -> dict:
        return {
            "rejections": self.rejections,
            "unknown_columns": self.unknown_columns,
            "flags_raised": dict(sorted(self.flags_raised.items())),
            "flags_resolved": dict(sorted(self.flags_resolved.items())),
            "dry_run": self.dry_run,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
        }


def set_phase(run: ImportRun | None, phase: str, result: ImportResult) -> None:
    """Show the run's phase (reading, writing) on the imports page."""
    if run is None:
        return
    _update_report(run, result, phase=phase)


def report_progress(run: ImportRun, result: ImportResult, done: int, total: int) -> None:
    _update_report(run, result, progress_done=done, progress_total=total)


def _update_report(run: ImportRun, result: ImportResult, **values) -> None:
    report = {**(run.report or {}), **values}
    run.report = report
    ImportRun.objects.filter(pk=run.pk).update(
        report=report, rows_read=result.rows_read, heartbeat_at=timezone.now()
    )
