from django.core.management.base import BaseCommand

from events.engine.retention import cutoff, purge


class Command(BaseCommand):
    help = (
        "Remove final deliveries (and their attempts) older than RETENTION_DAYS, in batches; "
        "the workers also do this once an hour."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=float, help="Keep this many days instead of RETENTION_DAYS.")
        parser.add_argument(
            "--max-seconds", type=float, default=3600, help="Stop after this long (default 3600)."
        )

    def handle(self, *args, **options):
        before = cutoff(days=options["days"])
        purged = purge(days=options["days"], max_seconds=options["max_seconds"])
        self.stdout.write(f"Created before {before:%Y-%m-%d %H:%M} UTC: {purged}.")
