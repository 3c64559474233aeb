"""What the intake commands share: the run record, a progress bar on a terminal, the summary."""

import sys
from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from callback import intake
from callback.models import ImportRun


class ProgressBar:
    """A one-line bar on stderr, drawn only when stdout is a terminal (cron gets the summary only)."""

    def __init__(self, stream, enabled: bool):
        self.stream, self.enabled = stream, enabled

    def __call__(self, rows: int, done: int, total: int) -> None:
        if not self.enabled:
            return
        if total:
            share = min(done / total, 1.0)
            bar = "#" * int(share * 30)
            self.stream.write(f"\r[{bar:<30}] {share:6.1%}  {rows:,} rows")
        else:
            self.stream.write(f"\r{rows:,} rows")
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")


def run_file_import(command, *, kind: str, path: str, dry_run: bool) -> None:
    file = Path(path)
    if not file.is_file():
        raise CommandError(_("Cannot read %(path)s: no such file.") % {"path": path})
    run = intake.create_run(
        kind=kind,
        source=ImportRun.Source.COMMAND,
        filename=file.name,
        stored_path=str(file.resolve()),
        dry_run=dry_run,
    )
    tty = hasattr(command.stdout, "isatty") and command.stdout.isatty()
    bar = ProgressBar(sys.stderr, tty)
    result = intake.execute_run(run, path=file, progress=bar)
    bar.finish()
    if result is None:
        run.refresh_from_db()
        raise CommandError(run.error)
    write_summary(command.stdout, result)


def write_summary(out, result: intake.ImportResult) -> None:
    lines = []
    if result.dry_run:
        lines.append(_("Dry run: nothing was saved."))
    lines.append(_("Rows read: %(n)s") % {"n": result.rows_read})
    lines.append(
        _("Created: %(c)s  Updated: %(u)s  Unchanged: %(s)s  Rejected: %(r)s")
        % {"c": result.created, "u": result.updated, "s": result.unchanged, "r": result.rejected}
    )
    for rejection in result.rejections:
        lines.append("  " + _("line %(line)s: %(reason)s") % rejection)
    if result.rejected > len(result.rejections):
        lines.append("  " + _("… and %(n)s more") % {"n": result.rejected - len(result.rejections)})
    if result.unknown_columns:
        lines.append(_("Unknown columns (ignored): %(cols)s") % {"cols": ", ".join(result.unknown_columns)})
    if result.flags_raised:
        lines.append(_("Flags raised:"))
        lines.extend(f"  {code}: {n}" for code, n in sorted(result.flags_raised.items()))
    else:
        lines.append(_("Flags raised: none"))
    if result.flags_resolved:
        lines.append(_("Flags resolved (corrected by import):"))
        lines.extend(f"  {code}: {n}" for code, n in sorted(result.flags_resolved.items()))
    out.write("\n".join(lines))
