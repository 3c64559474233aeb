from django.core.management.base import BaseCommand

from callback.models import ImportKind

from ._intake import run_file_import


class Command(BaseCommand):
    help = (
        "Import a policies file (CSV in UTF-8 or GB18030, or XLSX; columns as in FORMATS.md), "
        "screen it and print a summary. Exit status 1 only when the file cannot be read or a "
        "required column is missing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="Check and count, save nothing.")

    def handle(self, *args, file, dry_run, **options):
        run_file_import(self, kind=ImportKind.POLICIES, path=file, dry_run=dry_run)
