"""Tenjin: what its answers mean (the classification table) and what a failed connection means."""

import json

import pytest

from events.models import Outcome
from events.providers.answers import find_rule
from events.providers.tenjin_answers import TENJIN_ANSWERS, documented_success, tenjin_said
from events.transport import HttpAnswer, TransportError
from tests.answer_expectations import TRANSPORT_EXPECTED
from tests.tenjin_provider_helpers import tenjin

# Answers ----------------------------------------------------------------------------------------


def answer(status: int, body: str = "", headers: dict | None = None) -> HttpAnswer:
    return HttpAnswer(
        status=status, headers=headers or {}, body=body.encode(), truncated=False, duration_ms=9.0
    )


def said(status: int, message: str) -> str:
    return json.dumps({"code": status, "message": message})


D, R, P = Outcome.DELIVERED, Outcome.RETRY, Outcome.PERMANENT
# What each answer means, written out as Tenjin documents it (mmp-apis.md §2.6: "a 202 is not a
# success"), not read from the table under test: (HTTP status, body, outcome, may it be recorded).
TENJIN_DOCUMENTED = [
    (200, '{"code":200,"success":true}', D, False),
    (200, '{"message": "something new"}', P, True),  # a 200 that does not say success: flagged
    (202, said(202, "invalid device identifier"), P, False),
    (202, said(202, "not logged"), P, False),
    (202, said(202, "ignored"), P, False),
    (202, '{"message": "something new"}', P, False),
    (401, said(401, "unauthorized"), P, False),
    (401, '{"message": "something new"}', P, False),
    (404, said(404, "no such app"), P, False),
    (400, '{"message": "something new"}', P, False),
    (302, "", P, False),  # a redirect is not followed
    (429, "", R, False),
    (502, "", R, False),  # Tenjin is not known to record an event it answered 5xx for
    (418, '{"message": "something new"}', P, False),
    (204, "", P, True),
    (100, "", P, False),
]


@pytest.mark.parametrize(("status", "body", "outcome", "ambiguous"), TENJIN_DOCUMENTED)
def test_each_documented_tenjin_answer_gets_its_documented_outcome(status, body, outcome, ambiguous):
    verdict = tenjin.classify(answer(status, body, {"Location": "https://elsewhere.example/v0/event"}))
    assert (verdict.outcome, verdict.ambiguous) == (outcome, ambiguous)
    assert (
        verdict.explanation
        and "{status}" not in verdict.explanation
        and "{location}" not in verdict.explanation
    )


def test_the_documented_answers_reach_every_row_of_the_tenjin_table():
    reached = {
        id(
            find_rule(
                TENJIN_ANSWERS,
                status,
                tenjin_said(reply := answer(status, body))[0],
                success=documented_success(reply),
            )
        )
        for status, body, _, _ in TENJIN_DOCUMENTED
    }
    assert reached == {id(rule) for rule in TENJIN_ANSWERS}


@pytest.mark.parametrize("body", ['{"code":200,"success":true}', '{"code":200}', '{"success": true}'])
def test_it_calls_a_200_with_success_or_code_200_delivered(body):
    assert tenjin.classify(answer(200, body)).outcome == Outcome.DELIVERED


# (status, body, outcome, ambiguous): only Tenjin's documented {"code": 200} / {"success": true}.
TENJIN_VERDICTS = [
    (200, '{"code":200,"success":true}', Outcome.DELIVERED, False),
    (200, '{"code": 200}', Outcome.DELIVERED, False),
    (200, '{"success": true}', Outcome.DELIVERED, False),
    (200, '{"message": "success? no, ignored"}', Outcome.PERMANENT, True),
    (200, '{"message": "successfully dropped"}', Outcome.PERMANENT, True),
    (200, "success", Outcome.PERMANENT, True),
    (200, '{"code": 200, "success": false}', Outcome.PERMANENT, True),
    (200, '{"code": 200, "error": "not logged"}', Outcome.PERMANENT, True),
    (200, '{"success": "true"}', Outcome.PERMANENT, True),
    (200, '{"code": "200 but ignored"}', Outcome.PERMANENT, True),
    (200, '{"code": true}', Outcome.PERMANENT, True),
    (200, '{"status": "OK"}', Outcome.PERMANENT, True),
    (202, '{"code": 200, "success": true}', Outcome.PERMANENT, False),
]


@pytest.mark.parametrize(("status", "body", "outcome", "ambiguous"), TENJIN_VERDICTS)
def test_only_tenjins_documented_answer_counts_as_delivered(status, body, outcome, ambiguous):
    verdict = tenjin.classify(answer(status, body))
    assert (verdict.outcome, verdict.ambiguous) == (outcome, ambiguous)


def test_a_success_quotes_no_words_unless_tenjin_gave_some():
    assert tenjin.classify(answer(200, '{"code": 200, "success": true}')).mmp_message == ""
    said = tenjin.classify(answer(200, '{"code": 200, "success": true, "message": "event logged"}'))
    assert said.mmp_message == "event logged"


def test_a_web_page_from_a_proxy_is_not_called_tenjins_words():
    page = "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"
    verdict = tenjin.classify(answer(502, page, {"Content-Type": "text/html"}))
    assert verdict.mmp_message == "" and "not the MMP's API" in verdict.explanation


def test_it_does_not_call_a_bare_200_delivered():
    verdict = tenjin.classify(answer(200, "OK"))
    assert (verdict.outcome, verdict.ambiguous) == (Outcome.PERMANENT, True)


@pytest.mark.parametrize(
    ("phrase", "hint"),
    [
        ("invalid device identifier", "advertising id"),
        ("not logged", "SDK key is disabled"),
        ("ignored", "app-version rule"),
    ],
)
def test_it_never_calls_a_202_a_success(phrase, hint):
    verdict = tenjin.classify(answer(202, json.dumps({"code": 202, "message": phrase})))
    assert (verdict.outcome, verdict.mmp_message) == (Outcome.PERMANENT, phrase)
    assert hint in verdict.explanation


def test_it_calls_an_unknown_202_permanent():
    verdict = tenjin.classify(answer(202, '{"success": true}'))
    assert verdict.outcome == Outcome.PERMANENT


@pytest.mark.unconfirmed
def test_it_finds_the_documented_phrase_in_a_body_that_is_not_json():
    verdict = tenjin.classify(answer(404, "Error: no such app"))
    assert verdict.mmp_message == "no such app"
    assert "no app with this bundle id on this platform" in verdict.explanation


def test_it_explains_unauthorized_as_the_wrong_key_for_this_bundle_and_platform():
    verdict = tenjin.classify(answer(401, '{"message": "unauthorized"}'))
    assert verdict.outcome == Outcome.PERMANENT
    assert "each bundle id and platform has its own key" in verdict.explanation


def test_it_calls_a_400_permanent_with_tenjins_message():
    verdict = tenjin.classify(answer(400, '{"code": 400, "message": "missing parameter: os_version"}'))
    assert (verdict.outcome, verdict.mmp_message) == (Outcome.PERMANENT, "missing parameter: os_version")


@pytest.mark.unconfirmed
def test_it_retries_a_429_after_the_seconds_tenjin_asks_for():
    verdict = tenjin.classify(answer(429, "", {"Retry-After": "30"}))
    assert (verdict.outcome, verdict.retry_after) == (Outcome.RETRY, 30.0)


@pytest.mark.unconfirmed
def test_it_retries_a_5xx_without_calling_it_ambiguous():
    verdict = tenjin.classify(answer(502, "Bad gateway"))
    assert (verdict.outcome, verdict.ambiguous, verdict.mmp_message) == (Outcome.RETRY, False, "Bad gateway")


def test_it_names_the_tenjin_setting_on_a_redirect():
    assert (
        "check TENJIN_BASE_URL"
        in tenjin.classify(answer(302, "", {"Location": "https://x.example/"})).explanation
    )


@pytest.mark.parametrize(("kind", "outcome", "ambiguous"), TRANSPORT_EXPECTED)
def test_every_transport_failure_has_a_verdict(kind, outcome, ambiguous):
    verdict = tenjin.classify_error(TransportError(kind, "No answer."))
    assert (verdict.outcome, verdict.ambiguous, verdict.mmp_message) == (outcome, ambiguous, "")
    assert verdict.explanation.startswith("No answer. ")
