from events.providers.base import MMPProvider


class TenjinProvider(MMPProvider):
    name = "tenjin"
