from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from events.reporting.rebuild import rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the overview's hourly and daily rollups from the deliveries and attempts still kept "
        "(after upgrading to the rollups, or to check them). Older days stay as they are."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=float, help="Rebuild this many days back (default: RETENTION_DAYS)."
        )

    def handle(self, *args, **options):
        days = options["days"] if options["days"] is not None else settings.RETENTION_DAYS
        since = timezone.now() - timedelta(days=days)
        read = rebuild(since)
        self.stdout.write(
            f"Rollups rebuilt for the whole UTC days since {since:%Y-%m-%d %H:%M}: {read} deliveries read."
        )
