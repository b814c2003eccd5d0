from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from events.config_io import ConfigInvalid, import_config, parse_config


class Command(BaseCommand):
    help = (
        "Create or update apps and tokens from an export_config file; changes nothing if any part is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, **options):
        path: Path = options["file"]
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        try:
            counts = import_config(parse_config(raw.decode("utf-8")))
        except UnicodeDecodeError:
            raise CommandError(f"{path} is not UTF-8 text; nothing was imported.") from None
        except ConfigInvalid as exc:
            listing = "\n".join(f"  - {problem}" for problem in exc.problems)
            raise CommandError(f"{path} was not imported; nothing changed:\n{listing}") from None
        summary = ", ".join(f"{count} {what}" for what, count in counts.items())
        self.stdout.write(f"Imported {path}: {summary}.")
