from django.core.management.base import BaseCommand

from callback.sweep import sweep


class Command(BaseCommand):
    help = (
        "Expire lapsed leases, open appointments their agent missed, close free-look windows that ended "
        "(flag callback_unreachable) and make tasks callable whose receipt arrived. Idempotent; run every "
        "minute (rq cron: `manage.py rqcron callback.cron`)."
    )

    def handle(self, *args, **options):
        report = sweep()
        self.stdout.write(" ".join(f"{key}={value}" for key, value in report.as_dict().items()))
