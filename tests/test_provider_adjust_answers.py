"""Adjust: what its answers mean (the classification table) and what a failed connection means."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from events.models import Outcome
from events.providers.adjust_answers import ADJUST_ANSWERS, adjust_message
from events.providers.answers import TRANSPORT_RULES, AnswerRule, find_rule
from events.transport import HttpAnswer, TransportError
from tests.adjust_provider_helpers import adjust

# Answers ----------------------------------------------------------------------------------------

UNKNOWN_MESSAGE = "Something new"


def answer(status: int, body: str | bytes = b"", headers: dict | None = None) -> HttpAnswer:
    data = body.encode() if isinstance(body, str) else body
    return HttpAnswer(status=status, headers=headers or {}, body=data, truncated=False, duration_ms=12.0)


def sample_status(rules: tuple[AnswerRule, ...], rule: AnswerRule) -> int:
    """A status this row is the first to match for an unknown message."""
    if isinstance(rule.status, int):
        return rule.status
    earlier = rules[: rules.index(rule)]
    return next(
        s for s in rule.status if s >= 100 and not any(r.matches(s, UNKNOWN_MESSAGE) for r in earlier)
    )


def adjust_body(rule: AnswerRule) -> str:
    if rule.prefix == "OK":
        return '{"status": "OK"}'
    return json.dumps({"error": f"Event request failed ({rule.prefix or UNKNOWN_MESSAGE})"})


@pytest.mark.parametrize("rule", ADJUST_ANSWERS, ids=lambda r: f"{r.status}-{r.prefix}")
def test_every_row_of_the_adjust_table_classifies_its_answer(rule):
    status = sample_status(ADJUST_ANSWERS, rule)
    reply = answer(status, adjust_body(rule), {"Location": "https://elsewhere.example/event"})
    assert find_rule(ADJUST_ANSWERS, status, adjust_message(reply)) is rule
    verdict = adjust.classify(reply)
    assert (verdict.outcome, verdict.ambiguous) == (rule.outcome, rule.ambiguous)
    assert verdict.explanation == rule.render(status=status, location="https://elsewhere.example/event")
    assert verdict.mmp_message == (rule.prefix or UNKNOWN_MESSAGE)


def test_the_adjust_table_covers_every_documented_message():
    documented = {
        (202, "Missing authentication token"),
        (202, "Wrong authentication token"),
        (400, "Bad event state"),
        (400, "Invalid app token"),
        (400, "Ignoring event, earlier unique event tracked"),
        (400, "Invalid callback parameters"),
        (400, "Invalid event token"),
        (400, "Invalid revenue"),
        (401, "Failed to authorize request"),
        (401, "Session failed"),
        (403, "App is inactive"),
        (403, "Tracking disabled"),
        (403, "Event token blocklisted"),
        (404, "App token not found"),
        (404, "Device not found"),
        (413, "Request size too large"),
        (451, "Device is opted out"),
        (500, "Internal error, contact support@adjust.com"),
    }
    for status, message in documented:
        assert find_rule(ADJUST_ANSWERS, status, message).prefix is not None, (status, message)


def test_it_calls_status_ok_delivered(adjust_app):
    verdict = adjust.classify(answer(200, '{"status": "OK"}'))
    assert (verdict.outcome, verdict.mmp_message, verdict.ambiguous) == (Outcome.DELIVERED, "OK", False)


def test_it_calls_a_200_with_an_error_permanent(adjust_app):
    verdict = adjust.classify(answer(200, '{"error": "Event request failed (Device not found)"}'))
    assert (verdict.outcome, verdict.mmp_message) == (Outcome.PERMANENT, "Device not found")


def test_it_explains_device_not_found_in_a_marketers_words():
    verdict = adjust.classify(answer(404, '{"error": "Event request failed (Device not found)"}'))
    assert verdict.outcome == Outcome.PERMANENT
    assert verdict.explanation.startswith(
        "Adjust has no install for this device yet; send the install through the SDK first or check "
        "the device id type"
    )


def test_it_drops_the_suffix_after_the_message(adjust_app):
    body = '{"error": "Event request failed (Device not found) (app_token: 4w565xzmb54d, adid: 18546f)"}'
    verdict = adjust.classify(answer(404, body))
    assert verdict.mmp_message == "Device not found"


def test_it_keeps_the_detail_of_a_bad_event_state(adjust_app):
    detail = "Bad event state: Ignoring duplicate event. Last event count: 17 this event count: 17"
    verdict = adjust.classify(answer(400, json.dumps({"error": f"Event request failed ({detail})"})))
    assert verdict.mmp_message == detail
    assert "time order" in verdict.explanation


def test_it_keeps_parentheses_nested_in_the_message():
    body = json.dumps(
        {
            "error": "Event failed (Ignoring event subsequent to an event supposed to be unique (first occurred 2018))"
        }
    )
    assert adjust_message(answer(400, body)) == (
        "Ignoring event subsequent to an event supposed to be unique (first occurred 2018)"
    )


def test_it_reads_a_cut_error_up_to_its_end():
    assert adjust_message(answer(400, '{"error": "Event request failed (Bad event state: (cut"}')) == (
        "Bad event state: (cut"
    )


def test_it_matches_the_ad_revenue_wording_of_a_wrong_token():
    body = '{"error": "Ad revenue request failed (wrong authentication token) (app_token:abc123abc123)"}'
    verdict = adjust.classify(answer(202, body))
    assert verdict.mmp_message == "wrong authentication token"
    assert "does not know this security token" in verdict.explanation


def test_it_quotes_the_start_of_a_body_that_is_not_json():
    verdict = adjust.classify(answer(502, "Bad gateway " * 100))
    assert verdict.mmp_message.startswith("Bad gateway Bad gateway")
    assert len(verdict.mmp_message) == 300


def test_it_says_plainly_that_a_web_page_is_not_adjusts_answer():
    verdict = adjust.classify(answer(502, "<html><body>" + "Bad gateway " * 100 + "</body></html>"))
    assert verdict.mmp_message == ""  # never the page's text as "the MMP said"
    assert verdict.explanation.startswith("This answer is a web page, not the MMP's API")
    assert verdict.outcome == Outcome.RETRY


def test_it_retries_a_5xx_and_marks_it_ambiguous():
    verdict = adjust.classify(answer(503, ""))
    assert (verdict.outcome, verdict.ambiguous) == (Outcome.RETRY, True)


@pytest.mark.unconfirmed
def test_it_retries_a_429_after_the_seconds_adjust_asks_for():
    verdict = adjust.classify(answer(429, "", {"retry-after": "120"}))
    assert (verdict.outcome, verdict.retry_after) == (Outcome.RETRY, 120.0)


def test_it_reads_a_retry_after_given_as_a_date():
    later = datetime.now(UTC) + timedelta(minutes=10)
    verdict = adjust.classify(answer(429, "", {"Retry-After": later.strftime("%a, %d %b %Y %H:%M:%S GMT")}))
    assert 590 <= verdict.retry_after <= 600


def test_it_names_the_redirect_target_and_the_setting_to_check():
    verdict = adjust.classify(answer(301, "", {"Location": "https://app.adjust.com/event"}))
    assert verdict.outcome == Outcome.PERMANENT
    assert verdict.explanation == (
        "Adjust answered with a redirect to https://app.adjust.com/event; s2sadmin does not follow "
        "redirects: check ADJUST_BASE_URL."
    )


@pytest.mark.parametrize(("kind", "rule"), TRANSPORT_RULES.items())
def test_every_transport_failure_has_a_verdict(kind, rule):
    error = TransportError(kind, "Something went wrong.")
    verdict = adjust.classify_error(error)
    assert (verdict.outcome, verdict.ambiguous, verdict.mmp_message) == (rule.outcome, rule.ambiguous, "")
    assert verdict.explanation.startswith("Something went wrong. ")
    assert verdict.ambiguous == error.sent


def test_it_points_a_refused_destination_to_the_adjust_setting():
    verdict = adjust.classify_error(TransportError("not_allowed", "Refused to connect to evil.example."))
    assert verdict.outcome == Outcome.PERMANENT
    assert "Check ADJUST_BASE_URL" in verdict.explanation
