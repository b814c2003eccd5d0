from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "S2S events"

    def ready(self) -> None:
        from events import checks  # noqa: F401  (registers the settings checks)
