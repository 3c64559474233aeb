from django.core.management.base import BaseCommand

from callback import demo


class Command(BaseCommand):
    help = "Load demo users and realistic demo data (idempotent; needs DJANGO_DEBUG=1)."

    def handle(self, *args, **options):
        users = demo.seed_users()
        for name, step in demo.steps():
            step(users)
            self.stdout.write(f"  {name}: ok")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(
            "The demo queues take calls around the clock so there is work at any hour; "
            "real queues default to Mon-Fri 09:00-20:30 and Sat-Sun 09:00-17:00 (Settings > Queues)."
        )
        self.stdout.write(
            f"Demo logins (password {demo.DEMO_PASSWORD}): " + ", ".join(u for u, *_ in demo.DEMO_USERS)
        )
