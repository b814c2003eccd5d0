"""Adjust: what its answers mean (the classification table) and what a failed connection means."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from events.models import Outcome
from events.providers.adjust_answers import ADJUST_ANSWERS, adjust_message, documented_success
from events.providers.answers import TRANSPORT_RULES, find_rule
from events.transport import HttpAnswer, TransportError
from tests.adjust_provider_helpers import adjust
from tests.answer_expectations import TRANSPORT_EXPECTED

# Answers ----------------------------------------------------------------------------------------


def answer(status: int, body: str | bytes = b"", headers: dict | None = None) -> HttpAnswer:
    data = body.encode() if isinstance(body, str) else body
    return HttpAnswer(status=status, headers=headers or {}, body=data, truncated=False, duration_ms=12.0)


def failed(message: str) -> str:
    return json.dumps({"error": f"Event request failed ({message})"})


D, R, P = Outcome.DELIVERED, Outcome.RETRY, Outcome.PERMANENT
# What each answer means, written out as Adjust documents it (mmp-apis.md §1.2, §1.9), not read
# from the table under test: (HTTP status, body, outcome, whether Adjust may have recorded it).
ADJUST_DOCUMENTED = [
    (200, '{"status": "OK"}', D, False),
    # A product choice: a 200 without {"status": "OK"} is not called delivered, and is flagged.
    (200, failed("Something new"), P, True),
    (202, failed("Missing authentication token"), P, False),  # §1.2: received, not recorded
    (202, failed("Wrong authentication token"), P, False),
    (202, failed("Something new"), P, False),
    (400, failed("Bad event state: Ignoring duplicate event. Last event count: 17"), P, False),
    (400, failed("Invalid app token"), P, False),
    (400, failed("Ignoring event, earlier unique event tracked"), P, False),
    (400, failed("Invalid callback parameters"), P, False),
    (400, failed("Invalid event token"), P, False),
    (400, failed("Invalid revenue"), P, False),
    (401, failed("Failed to authorize request"), P, False),
    (401, failed("Session failed"), P, False),
    (401, failed("Something new"), P, False),
    (403, failed("App is inactive"), P, False),
    (403, failed("Tracking disabled"), P, False),
    (403, failed("Event token blocklisted"), P, False),
    (404, failed("App token not found"), P, False),
    (404, failed("Device not found (app_token: 4w565xzmb54d, adid: 1234)"), P, False),
    (413, failed("Request size too large"), P, False),
    (451, failed("Device is opted out"), P, False),
    # §1.9: 5xx were returned for events Adjust did process: worth a retry, marked ambiguous.
    (500, failed("Internal error, contact support@adjust.com"), R, True),
    (301, "", P, False),  # a redirect is not followed
    (429, "", R, False),
    (503, "", R, True),
    (418, failed("Something new"), P, False),
    (204, "", P, True),
    (100, "", P, False),
]


@pytest.mark.parametrize(("status", "body", "outcome", "ambiguous"), ADJUST_DOCUMENTED)
def test_each_documented_adjust_answer_gets_its_documented_outcome(status, body, outcome, ambiguous):
    verdict = adjust.classify(answer(status, body, {"Location": "https://elsewhere.example/event"}))
    assert (verdict.outcome, verdict.ambiguous) == (outcome, ambiguous)
    assert (
        verdict.explanation
        and "{status}" not in verdict.explanation
        and "{location}" not in verdict.explanation
    )


def test_the_documented_answers_reach_every_row_of_the_adjust_table():
    reached = {
        id(
            find_rule(
                ADJUST_ANSWERS,
                status,
                adjust_message(reply := answer(status, body)),
                success=documented_success(reply),
            )
        )
        for status, body, _, _ in ADJUST_DOCUMENTED
    }
    assert reached == {id(rule) for rule in ADJUST_ANSWERS}


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


# (status, body, outcome, ambiguous): only Adjust's documented {"status": "OK"} is delivered.
ADJUST_VERDICTS = [
    (200, '{"status": "OK"}', Outcome.DELIVERED, False),
    (200, '{"status":"OK"}', Outcome.DELIVERED, False),
    (200, '{"status": "OK", "adid": "18546f", "padding": "x"}', Outcome.DELIVERED, False),
    (200, "ok: event dropped", Outcome.PERMANENT, True),
    (200, "OK", Outcome.PERMANENT, True),
    (200, '{"status": "OK, but ignored (duplicate)"}', Outcome.PERMANENT, True),
    (200, '{"status": "ok"}', Outcome.PERMANENT, True),
    (200, '{"status": " OK"}', Outcome.PERMANENT, True),
    (200, '{"error": "OK"}', Outcome.PERMANENT, True),
    (200, '{"status": "OK", "error": "Event request failed (Device not found)"}', Outcome.PERMANENT, True),
    (200, '["status", "OK"]', Outcome.PERMANENT, True),
    (200, "", Outcome.PERMANENT, True),
    (201, '{"status": "OK"}', Outcome.PERMANENT, True),
    (202, '{"status": "OK"}', Outcome.PERMANENT, False),
]


@pytest.mark.parametrize(("status", "body", "outcome", "ambiguous"), ADJUST_VERDICTS)
def test_only_adjusts_documented_answer_counts_as_delivered(status, body, outcome, ambiguous):
    verdict = adjust.classify(answer(status, body))
    assert (verdict.outcome, verdict.ambiguous) == (outcome, ambiguous)


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


def test_the_transport_expectations_cover_every_kind():
    assert {kind for kind, _, _ in TRANSPORT_EXPECTED} == set(TRANSPORT_RULES)


@pytest.mark.parametrize(("kind", "outcome", "ambiguous"), TRANSPORT_EXPECTED)
def test_every_transport_failure_has_a_verdict(kind, outcome, ambiguous):
    error = TransportError(kind, "Something went wrong.")
    verdict = adjust.classify_error(error)
    assert (verdict.outcome, verdict.ambiguous, verdict.mmp_message) == (outcome, ambiguous, "")
    assert verdict.explanation.startswith("Something went wrong. ")
    assert verdict.ambiguous == error.sent


def test_it_points_a_refused_destination_to_the_adjust_setting():
    verdict = adjust.classify_error(TransportError("not_allowed", "Refused to connect to evil.example."))
    assert verdict.outcome == Outcome.PERMANENT
    assert "Check ADJUST_BASE_URL" in verdict.explanation
