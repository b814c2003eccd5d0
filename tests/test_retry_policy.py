"""The retry policy: every row of every provider's table leads to the status it promises, and the
schedule (backoff, jitter, maximum attempts, maximum age, Retry-After, ambiguous answers) is settings.

The provider tests (test_provider_*.py) prove each row matches its answer; these prove what the
job then does with it."""

from datetime import UTC, datetime, timedelta

import pytest

from events.engine.retry_policy import backoff_delay, decide, max_attempts, policy_rows
from events.models import Outcome, Status

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def policy(settings):
    settings.SEND_BACKOFF = [10, 60, 300]
    settings.SEND_BACKOFF_JITTER = 0
    settings.SEND_MAX_ATTEMPTS = None
    settings.SEND_MAX_AGE = 24 * 3600
    settings.SEND_RETRY_AFTER_MAX = 3600
    settings.SEND_RETRY_AMBIGUOUS = True
    return settings


def first_attempt(outcome, **kwargs):
    return decide(outcome, attempts_made=1, created_at=NOW, now=NOW, **kwargs)


# What the job does on a first attempt, pinned as data: (outcome, ambiguous) -> status.
FIRST_ATTEMPT = {
    (Outcome.DELIVERED, False): Status.DELIVERED,
    (Outcome.PERMANENT, False): Status.FAILED,
    (Outcome.PERMANENT, True): Status.FAILED,
    (Outcome.RETRY, False): Status.RETRYING,
    (Outcome.RETRY, True): Status.RETRYING,  # SEND_RETRY_AMBIGUOUS on
}


@pytest.mark.parametrize(("outcome", "ambiguous"), FIRST_ATTEMPT)
def test_each_outcome_leads_to_its_status(outcome, ambiguous):
    decision = first_attempt(outcome, ambiguous=ambiguous)
    assert (decision.status, decision.outcome) == (FIRST_ATTEMPT[outcome, ambiguous], outcome)


def test_every_row_of_every_table_is_one_of_the_pinned_cases_and_explains_itself():
    for row in policy_rows():
        assert (row.outcome, row.ambiguous) in FIRST_ATTEMPT, row
        assert row.explanation, f"{row} explains itself to the marketer"


@pytest.mark.parametrize(
    "row",
    [r for r in policy_rows() if r.outcome == Outcome.RETRY and r.ambiguous],
    ids=lambda r: f"{r.provider}-{r.answer}",
)
def test_with_ambiguous_retries_off_every_ambiguous_retry_row_fails_instead(row, policy):
    policy.SEND_RETRY_AMBIGUOUS = False
    decision = first_attempt(row.outcome, ambiguous=True)
    assert (decision.status, decision.outcome) == (Status.FAILED, Outcome.PERMANENT)
    assert "SEND_RETRY_AMBIGUOUS is off" in decision.note


def test_the_tables_mark_adjust_server_errors_ambiguous_and_tenjin_ones_not():
    fives = {r.provider: r for r in policy_rows() if r.answer == "500-599"}
    assert fives["adjust"].ambiguous and not fives["tenjin"].ambiguous
    assert all(r.ambiguous for r in policy_rows() if r.answer in ("read_timeout", "dropped"))


def test_both_tables_end_with_a_row_for_any_answer():
    for provider in ("adjust", "tenjin"):
        answers = [r for r in policy_rows() if r.provider == provider and r.message != "(no answer)"]
        assert (answers[-1].answer, answers[-1].message) == ("0-999", "(any)")


def test_the_backoff_follows_the_schedule_and_repeats_its_last_step():
    assert [backoff_delay(n) for n in (1, 2, 3, 4, 5)] == [10, 60, 300, 300, 300]


def test_jitter_moves_each_delay_within_its_share(policy):
    policy.SEND_BACKOFF_JITTER = 0.2
    delays = {round(backoff_delay(1), 3) for _ in range(200)}
    assert min(delays) >= 8 and max(delays) <= 12 and len(delays) > 50


def test_a_429s_retry_after_is_a_minimum_within_its_cap(policy):
    assert first_attempt(Outcome.RETRY, retry_after=120).delay == 120
    assert first_attempt(Outcome.RETRY, retry_after=2).delay == 10
    assert first_attempt(Outcome.RETRY, retry_after=10**6).delay == 3600


def test_the_delivery_is_dead_after_one_more_attempt_than_there_are_delays():
    assert max_attempts() == 4
    assert decide(Outcome.RETRY, attempts_made=3, created_at=NOW, now=NOW).status == Status.RETRYING
    dead = decide(Outcome.RETRY, attempts_made=4, created_at=NOW, now=NOW)
    assert (dead.status, dead.note) == (Status.DEAD, "Gave up after 4 attempts.")


def test_maximum_attempts_is_a_setting_of_its_own(policy):
    policy.SEND_MAX_ATTEMPTS = 2
    assert decide(Outcome.RETRY, attempts_made=2, created_at=NOW, now=NOW).status == Status.DEAD
    policy.SEND_MAX_ATTEMPTS = 9
    assert decide(Outcome.RETRY, attempts_made=8, created_at=NOW, now=NOW).delay == 300


def test_a_retry_that_would_come_after_the_maximum_age_is_not_scheduled(policy):
    policy.SEND_MAX_AGE = 3600
    created = NOW - timedelta(minutes=59, seconds=55)  # the 10 s backoff would cross the hour
    decision = decide(Outcome.RETRY, attempts_made=1, created_at=created, now=NOW)
    assert decision.status == Status.DEAD
    assert "more than 60 minutes old (SEND_MAX_AGE)" in decision.note
    assert decide(Outcome.RETRY, attempts_made=1, created_at=NOW - timedelta(minutes=50), now=NOW).status == (
        Status.RETRYING
    )


def test_a_permanent_answer_is_never_retried_however_young():
    assert first_attempt(Outcome.PERMANENT).status == Status.FAILED
