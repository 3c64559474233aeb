from django.core.management.base import BaseCommand

from callback.stats.refresh import refresh, refresh_due


class Command(BaseCommand):
    help = (
        "Rebuild the statistics roll-up: the recent free-look days, or every day with --full (a full "
        "rebuild also runs when none has run today). Run every STATS_ROLLUP_MINUTES from the system "
        "cron where there is no Redis (rq cron: `manage.py rqcron callback.cron` runs it itself)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--full", action="store_true", help="Rebuild every day, not only the recent ones."
        )

    def handle(self, *args, **options):
        run = refresh(full=True) if options["full"] else refresh_due()
        kind = "full" if run.full else f"from {run.first_day}"
        self.stdout.write(f"statistics roll-up ({kind}): {run.rows} rows in {run.seconds:.1f} s")
