from django.core.management.base import BaseCommand

from callback.retention import purge_old_uploads


class Command(BaseCommand):
    help = "Delete uploaded import files older than UPLOAD_RETENTION_DAYS (the import records stay)."

    def handle(self, *args, **options):
        deleted = purge_old_uploads()
        self.stdout.write(f"{deleted} upload file(s) deleted.")
