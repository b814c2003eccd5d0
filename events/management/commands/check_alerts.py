"""Run the alert checks once, here and now (the send workers run them every ALERT_CHECK_INTERVAL).

From cron, outside the workers, it is also what notices that no worker is alive at all."""

from django.core.management.base import BaseCommand

from events import monitoring


class Command(BaseCommand):
    help = "Run the alert rules once (and send due canaries); the messages are sent at once."

    def handle(self, *args, **options):
        self.stdout.write(monitoring.run_checks(tell_at_once=True) or "Nothing changed.")
