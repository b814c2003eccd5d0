from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "S2S events"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from events import checks  # noqa: F401  (registers the settings checks)
        from events.roles import sync_roles

        post_migrate.connect(sync_roles, sender=self)
