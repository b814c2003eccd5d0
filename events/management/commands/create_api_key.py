from django.core.management.base import BaseCommand, CommandError

from events import audit
from events.api.keys import create_api_key
from events.forms.api_keys import ApiKeyForm
from events.models import App


class Command(BaseCommand):
    help = "Create an API key for the ingestion API, scoped to some apps; the key is printed once."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--app", action="append", required=True, help="App name (repeatable).")
        parser.add_argument("--rate-limit", type=int, default=600, help="Requests per minute (default 600).")

    def handle(self, *args, **options):
        apps = list(App.objects.filter(name__in=options["app"]))
        missing = sorted(set(options["app"]) - {app.name for app in apps})
        if missing:
            raise CommandError(f"No app named {', '.join(repr(m) for m in missing)}.")
        # The dashboard's form: one set of rules for the name, the apps and the rate limit.
        form = ApiKeyForm(
            data={
                "name": options["name"],
                "apps": [app.pk for app in apps],
                "rate_limit_per_minute": options["rate_limit"],
            }
        )
        if not form.is_valid():
            options_by_field = {"name": "name", "apps": "--app", "rate_limit_per_minute": "--rate-limit"}
            lines = [
                f"  {options_by_field.get(field, field)}: {' '.join(messages)}"
                for field, messages in form.errors.items()
            ]
            raise CommandError("No key was created:\n" + "\n".join(lines))
        key, raw = create_api_key(
            form.cleaned_data["name"],
            list(form.cleaned_data["apps"]),
            rate_limit_per_minute=form.cleaned_data["rate_limit_per_minute"],
        )
        audit.record_change(
            None,
            "api_key.created",
            key,
            {
                "name": key.name,
                "prefix": key.prefix,
                "apps": ", ".join(app.name for app in form.cleaned_data["apps"]),
                "rate_limit_per_minute": key.rate_limit_per_minute,
                "via": "create_api_key",
            },
        )
        self.stdout.write(f"API key {key.name!r} for {', '.join(a.name for a in apps)}:\n{raw}")
        self.stderr.write("Store it now: it is not kept and cannot be shown again.")
