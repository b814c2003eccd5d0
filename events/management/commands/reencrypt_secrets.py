"""Re-encrypt every stored MMP secret under the first SECRETS_KEY.

To rotate the key: put the new key first in SECRETS_KEY and the old one after it (both decrypt),
run this, then drop the old key. It decrypts everything before writing anything, and writes all of
it in one transaction: a value no listed key can decrypt stops it with nothing changed.
"""

from cryptography.fernet import InvalidToken
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from events.callbacks.models import CallbackEndpoint
from events.models import App, SecurityToken
from events.secrets import Ciphertext, fernet

# (model, field, how a row is named in a message)
SECRET_FIELDS = (
    (App, "app_key", lambda row: f"app {row['name']!r} (id {row['pk']}): its app token / SDK key"),
    (
        SecurityToken,
        "value",
        lambda row: f"security token {row['label']!r} of app {row['app__name']!r} (id {row['pk']})",
    ),
    (
        CallbackEndpoint,
        "secret",
        lambda row: f"the result callback's signing secret of app {row['app__name']!r} (id {row['pk']})",
    ),
)
# The columns each model's rows are named by in a message.
NAMED_BY = {App: ("name",), SecurityToken: ("app__name", "label"), CallbackEndpoint: ("app__name",)}


class Command(BaseCommand):
    help = (
        "Re-encrypt every app key, security token and callback signing secret under the first "
        "SECRETS_KEY (for key rotation)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Check that every value decrypts; write nothing."
        )

    def handle(self, *args, **options):
        keys = fernet()
        rotated: dict[type, list[tuple[int, str]]] = {}
        unreadable = []
        with transaction.atomic():
            for model, field, describe in SECRET_FIELDS:
                extra = NAMED_BY[model]
                rows = model.objects.select_for_update().values("pk", field, *extra)
                rotated[model] = []
                for row in rows:
                    if not row[field]:
                        continue
                    try:
                        rotated[model].append((row["pk"], keys.rotate(row[field].encode()).decode()))
                    except InvalidToken:
                        unreadable.append(describe(row))
            if unreadable:
                listing = "\n".join(f"  - {what}" for what in unreadable)
                raise CommandError(
                    f"Nothing was re-encrypted: {len(unreadable)} stored value(s) cannot be decrypted with any "
                    f"key in SECRETS_KEY (list the key they were written with after the new one):\n{listing}"
                )
            if not options["dry_run"]:
                for model, field, _ in SECRET_FIELDS:
                    for pk, token in rotated[model]:
                        # Ciphertext: stored as given, not encrypted a second time.
                        model.objects.filter(pk=pk).update(**{field: Ciphertext(token)})
        verb = "Would re-encrypt" if options["dry_run"] else "Re-encrypted"
        self.stdout.write(
            f"{verb} {len(rotated[App])} app keys and {len(rotated[SecurityToken])} security tokens "
            "under the first SECRETS_KEY."
        )
