import json

from django.core.management.base import BaseCommand

from events.config_io import export_config


class Command(BaseCommand):
    help = "Print apps, event tokens and security tokens as JSON (secrets left out unless asked)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--include-secrets",
            action="store_true",
            help="Include app tokens, SDK keys and security token values in plain text.",
        )

    def handle(self, *args, **options):
        data = export_config(include_secrets=options["include_secrets"])
        self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
        if options["include_secrets"]:
            self.stderr.write("This output contains secrets in plain text: store it accordingly.")
