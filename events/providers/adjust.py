from events.providers.base import MMPProvider


class AdjustProvider(MMPProvider):
    name = "adjust"
