"""What a failed connection means, pinned as data for both providers' tests (not read from
events.providers.answers.TRANSPORT_RULES, the table under test)."""

from events.models import Outcome

# (kind, outcome, whether the MMP may have recorded the event): nothing was sent before the
# connection stood, so those are safe to retry; a read timeout or a dropped connection came after
# the request went out (mmp-apis.md §1.9: Adjust may have recorded it).
TRANSPORT_EXPECTED = [
    ("not_allowed", Outcome.PERMANENT, False),
    ("dns", Outcome.RETRY, False),
    ("refused", Outcome.RETRY, False),
    ("connect_timeout", Outcome.RETRY, False),
    ("tls", Outcome.RETRY, False),
    ("other", Outcome.RETRY, False),
    ("read_timeout", Outcome.RETRY, True),
    ("dropped", Outcome.RETRY, True),
]
