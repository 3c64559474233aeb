"""Uploaded files hold raw personal data: they are deleted UPLOAD_RETENTION_DAYS after the upload.

The import's record (counts, rejections by line, the flags raised) stays; only the file goes. Run
daily by rq's cron (callback/cron.py) or `manage.py purge_uploads` from the system cron. Files of
command-line imports are the operator's own and are never touched.
"""

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from .audit import record_audit
from .models import ImportRun, ImportStatus

UPLOAD_FOLDER = "imports"


def purge_old_uploads(*, now: dt.datetime | None = None) -> int:
    """Delete uploads older than the retention period; returns how many files were deleted."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.UPLOAD_RETENTION_DAYS)
    media = Path(settings.MEDIA_ROOT)
    deleted = 0
    runs = ImportRun.objects.filter(
        created_at__lt=cutoff, stored_path__startswith=f"{UPLOAD_FOLDER}/"
    ).exclude(status__in=[ImportStatus.PENDING, ImportStatus.RUNNING])
    for run in runs.only("pk", "stored_path"):
        path = media / run.stored_path
        if path.is_file():
            path.unlink()
            deleted += 1
        ImportRun.objects.filter(pk=run.pk).update(stored_path="")
    # Files no run points to any more (a crash between saving the file and creating the run).
    folder = media / UPLOAD_FOLDER
    known = set(
        ImportRun.objects.filter(stored_path__startswith=f"{UPLOAD_FOLDER}/").values_list(
            "stored_path", flat=True
        )
    )
    if folder.is_dir():
        for path in folder.iterdir():
            if not path.is_file() or f"{UPLOAD_FOLDER}/{path.name}" in known:
                continue
            if dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC) < cutoff:
                path.unlink()
                deleted += 1
    if deleted:
        record_audit(
            user=None,
            action="uploads_purged",
            detail={"files": deleted, "retention_days": settings.UPLOAD_RETENTION_DAYS},
        )
    return deleted
