"""manage.py export_flags --output FILE [--status S] [--code C] [--branch B] [--outlet O] [--user USERNAME]"""

import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from verification.vocab import FlagCode

from ...exports import export_flags, export_format
from ...models import FlagStatus


class Command(BaseCommand):
    help = "Write contact flags to a CSV (UTF-8 with BOM) or, when FILE ends in .xlsx, an XLSX file."

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, metavar="FILE")
        parser.add_argument("--status", help="One of: " + ", ".join(FlagStatus.values))
        parser.add_argument("--code", help="A flag code from FORMATS.md, e.g. mobile_invalid")
        parser.add_argument("--branch", help="A branch code")
        parser.add_argument("--outlet", help="A bank or intermediary outlet code")
        parser.add_argument(
            "--user", metavar="USERNAME", help="Who the export is recorded for in the audit trail"
        )

    def handle(self, *args, output, status, code, branch, outlet, user, **options):
        if status and status not in FlagStatus.values:
            raise CommandError(f"Unknown --status {status!r}; use one of: {', '.join(FlagStatus.values)}")
        if code and code not in FlagCode.values:
            raise CommandError(f"Unknown --code {code!r}; use one of: {', '.join(FlagCode.values)}")
        who = None
        if user:
            who = get_user_model().objects.filter(username=user).first()
            if who is None:
                raise CommandError(f"No user {user!r}.")
        filters = {
            "status": status or "",
            "code": code or "",
            "branch": (branch or "").strip(),
            "outlet": (outlet or "").strip(),
        }
        try:
            count = export_flags(filters=filters, output=output, user=who, progress=self._progress())
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc}") from exc
        self.stdout.write(f"Wrote {count} flags to {output} ({export_format(output).upper()}).")

    def _progress(self):
        if not sys.stderr.isatty():
            return None
        stderr = self.stderr

        def counting(rows):
            for n, row in enumerate(rows, start=1):
                if n % 10000 == 0:
                    stderr.write(f"\r{n} flags…", ending="")
                    stderr.flush()
                yield row
            stderr.write("\r", ending="")

        return counting
