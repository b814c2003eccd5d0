from events.models import App, Provider
from events.providers.adjust import AdjustProvider
from events.providers.base import EventInvalid, MMPProvider, ValidEvent, Verdict
from events.providers.tenjin import TenjinProvider

PROVIDERS: dict[str, MMPProvider] = {
    Provider.ADJUST: AdjustProvider(),
    Provider.TENJIN: TenjinProvider(),
}


def get_provider(app_or_name: App | str) -> MMPProvider:
    name = app_or_name.provider if isinstance(app_or_name, App) else app_or_name
    return PROVIDERS[name]


__all__ = ["PROVIDERS", "EventInvalid", "MMPProvider", "ValidEvent", "Verdict", "get_provider"]
