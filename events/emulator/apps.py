from django.apps import AppConfig


class EmulatorConfig(AppConfig):
    name = "events.emulator"
    label = "emulator"
    verbose_name = "MMP emulator"
