"""The retry policy: after each attempt, whether and when s2sadmin tries again.

What an answer means is data, one table per MMP, read top to bottom (the first matching row wins):

- `events/providers/adjust_answers.py` ADJUST_ANSWERS: every answer Adjust documents (§1.2, §1.9);
- `events/providers/tenjin_answers.py` TENJIN_ANSWERS: Tenjin's (§2.6), where a 202 is a failure;
- `events/providers/answers.py` generic_rules(): the rows both end with (redirects, 429, 5xx, other
  4xx, unexpected 2xx, anything else), and TRANSPORT_RULES: no answer at all (DNS, refused,
  timeouts, TLS, dropped connections).

Each row gives an outcome (delivered, retry later, permanent), the explanation a marketer reads, and
whether the MMP may have recorded the event although its answer says otherwise (ambiguous: Adjust's
5xx, read timeouts, dropped connections). `policy_rows()` lists them all.

When to try again is settings, read on every decision:

- SEND_BACKOFF: seconds before attempt 2, 3, ...; past its end the last delay repeats;
- SEND_BACKOFF_JITTER: each delay is moved by up to this share either way, so a burst of failures
  does not come back as a burst;
- SEND_MAX_ATTEMPTS: attempts in all before the delivery is dead (default: one more than
  SEND_BACKOFF has delays);
- SEND_MAX_AGE: seconds after its creation past which a delivery is dead instead of retried;
- SEND_RETRY_AFTER_MAX: the longest Retry-After (sent with a 429) that is honoured;
- SEND_RETRY_AMBIGUOUS: whether an answer the MMP may have recorded is retried (risking a duplicate,
  and the delivery is marked ambiguous) or failed (risking a loss).
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from events.models import Outcome, Status


@dataclass(frozen=True)
class Decision:
    status: Status
    # The attempt's outcome as recorded: an ambiguous retry that the settings forbid is permanent.
    outcome: Outcome
    # Seconds until the next attempt, when the status is RETRYING.
    delay: float = 0.0
    # Why it stops here, added to the attempt's explanation.
    note: str = ""


def max_attempts() -> int:
    configured = getattr(settings, "SEND_MAX_ATTEMPTS", None)
    return int(configured) if configured else len(settings.SEND_BACKOFF) + 1


def max_age() -> timedelta:
    return timedelta(seconds=settings.SEND_MAX_AGE)


def backoff_delay(attempts_made: int, retry_after: float | None = None) -> float:
    """Seconds to wait after attempt number `attempts_made` (1-based), jittered; never sooner than
    the MMP asked (Retry-After), within SEND_RETRY_AFTER_MAX."""
    backoff = settings.SEND_BACKOFF
    delay = backoff[min(max(attempts_made, 1), len(backoff)) - 1] if backoff else 0.0
    jitter = settings.SEND_BACKOFF_JITTER
    delay *= 1 + random.uniform(-jitter, jitter)  # noqa: S311 - spreading load, not security
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.SEND_RETRY_AFTER_MAX))
    return max(delay, 0.0)


def decide(
    outcome: Outcome,
    *,
    ambiguous: bool = False,
    retry_after: float | None = None,
    attempts_made: int,
    created_at: datetime,
    now: datetime,
) -> Decision:
    """What follows an attempt whose answer the provider's table classified as `outcome`."""
    if outcome == Outcome.DELIVERED:
        return Decision(Status.DELIVERED, Outcome.DELIVERED)
    if outcome == Outcome.PERMANENT:
        return Decision(Status.FAILED, Outcome.PERMANENT)
    if ambiguous and not settings.SEND_RETRY_AMBIGUOUS:
        return Decision(
            Status.FAILED,
            Outcome.PERMANENT,
            note="Not retried, because the MMP may have recorded it (SEND_RETRY_AMBIGUOUS is off).",
        )
    if attempts_made >= max_attempts():
        return Decision(Status.DEAD, Outcome.RETRY, note=f"Gave up after {attempts_made} attempts.")
    delay = backoff_delay(attempts_made, retry_after)
    if now + timedelta(seconds=delay) > created_at + max_age():
        return Decision(Status.DEAD, Outcome.RETRY, note=too_old_note())
    return Decision(Status.RETRYING, Outcome.RETRY, delay)


def too_old(created_at: datetime, now: datetime) -> bool:
    return now > created_at + max_age()


def too_old_note() -> str:
    return (
        f"Gave up: the delivery is more than {_duration(settings.SEND_MAX_AGE)} old (SEND_MAX_AGE), "
        "so it is not tried again."
    )


def _duration(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:g} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:g} hours"
    if seconds >= 120:
        return f"{seconds / 60:g} minutes"
    return f"{seconds:g} seconds"


@dataclass(frozen=True)
class PolicyRow:
    provider: str
    # An HTTP status (or range), or the transport failure's kind when no answer came.
    answer: str
    message: str
    outcome: Outcome
    ambiguous: bool
    explanation: str


def policy_rows() -> list[PolicyRow]:
    """Every row of every provider's table, in the order they are read: the policy as documentation."""
    from events.providers import PROVIDERS
    from events.providers.answers import TRANSPORT_RULES

    rows = []
    for provider, table in ((name, p.answers) for name, p in PROVIDERS.items()):
        for rule in table:
            status = (
                str(rule.status)
                if isinstance(rule.status, int)
                else f"{rule.status.start}-{rule.status.stop - 1}"
            )
            rows.append(
                PolicyRow(
                    provider, status, rule.prefix or "(any)", rule.outcome, rule.ambiguous, rule.explanation
                )
            )
        for kind, transport_rule in TRANSPORT_RULES.items():
            rows.append(
                PolicyRow(
                    provider,
                    kind,
                    "(no answer)",
                    transport_rule.outcome,
                    transport_rule.ambiguous,
                    transport_rule.advice,
                )
            )
    return rows
