from django.core.management.base import BaseCommand

from callback.models import ImportKind

from ._intake import run_file_import

REGISTRIES = [ImportKind.AGENTS.value, ImportKind.OUTLETS.value, ImportKind.COMPANY_NUMBERS.value]


class Command(BaseCommand):
    help = (
        "Import a registry file (agents, outlets or company_numbers; CSV or XLSX, FORMATS.md) and "
        "re-screen the policies it affects. Exit status 1 only when the file cannot be read or a "
        "required column is missing."
    )

    def add_arguments(self, parser):
        parser.add_argument("registry", choices=REGISTRIES)
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="Check and count, save nothing.")

    def handle(self, *args, registry, file, dry_run, **options):
        run_file_import(self, kind=registry, path=file, dry_run=dry_run)
