"""The shares of a live progress bar (a bulk send, a bulk resend): delivered, failed and in flight."""


class ProgressBar:
    """For a dataclass with `delivered`, `failed` and `in_flight` counts: their percentages of
    `bar_total`, which each progress names."""

    @property
    def bar_total(self) -> int:
        raise NotImplementedError

    def percent(self, count: int) -> float:
        return round(100 * count / self.bar_total, 1) if self.bar_total else 0.0

    @property
    def delivered_percent(self) -> float:
        return self.percent(self.delivered)

    @property
    def failed_percent(self) -> float:
        return self.percent(self.failed)

    @property
    def in_flight_percent(self) -> float:
        return self.percent(self.in_flight)

    @property
    def finished_percent(self) -> int:
        return int(self.percent(self.delivered + self.failed))
