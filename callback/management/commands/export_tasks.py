from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from callback.exports import TASK_COLUMNS, export_tasks


class Command(BaseCommand):
    help = f"Write one row per callback task ({', '.join(TASK_COLUMNS)}) as CSV (UTF-8 with BOM) or XLSX."

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", required=True, help="File to write; .xlsx gives a workbook, else CSV."
        )
        parser.add_argument("--status", default="", help="Only tasks with this status.")
        parser.add_argument("--queue", default="", help="Only tasks of this queue (code).")

    def handle(self, *args, output, status, queue, **options):
        path = Path(output)
        if not path.parent.exists():
            raise CommandError(f"Directory {path.parent} does not exist.")
        count = export_tasks(output=path, status=status, queue_code=queue)
        self.stdout.write(self.style.SUCCESS(f"{count} tasks written to {path}"))
