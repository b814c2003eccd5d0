from events.choices import Provider
from events.models import App
from events.providers.adjust import AdjustProvider
from events.providers.appsflyer import AppsFlyerProvider
from events.providers.base import EventInvalid, FieldSpec, MMPProvider, SkanValues, ValidEvent, Verdict
from events.providers.singular import SingularProvider
from events.providers.tenjin import TenjinProvider

PROVIDERS: dict[str, MMPProvider] = {
    Provider.ADJUST: AdjustProvider(),
    Provider.TENJIN: TenjinProvider(),
    Provider.APPSFLYER: AppsFlyerProvider(),
    Provider.SINGULAR: SingularProvider(),
}


def get_provider(app_or_name: App | str) -> MMPProvider:
    name = app_or_name.provider if isinstance(app_or_name, App) else app_or_name
    return PROVIDERS[name]


__all__ = [
    "PROVIDERS",
    "EventInvalid",
    "FieldSpec",
    "MMPProvider",
    "SkanValues",
    "ValidEvent",
    "Verdict",
    "get_provider",
]
