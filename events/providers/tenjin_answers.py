"""What Tenjin's answers mean (mmp-apis.md §2.6), as one table.

Tenjin confirms with HTTP 200 and `{"code":200,"success":true}` (its doc: `{"code":200}`). Its
failures are known by a phrase in the body (`unauthorized`, `no such app`, ...); the JSON around
the phrase is UNCONFIRMED, so the phrase is looked for in a `message` key and in the whole body.
"""

from events.choices import Outcome
from events.providers.answers import AnswerRule, excerpt, find_rule, generic_rules, json_object, verdict_for
from events.providers.base import Verdict
from events.transport import HttpAnswer

PERMANENT = Outcome.PERMANENT

TENJIN_ANSWERS: tuple[AnswerRule, ...] = (
    # Only the documented answer (see documented_success), not a message that starts with "success".
    AnswerRule(200, None, Outcome.DELIVERED, "Tenjin recorded the event.", documented_success=True),
    AnswerRule(
        200,
        None,
        PERMANENT,
        'Tenjin answered HTTP 200 without {"success": true} or {"code": 200}; it may or may not have '
        "recorded the event. Read the response body before sending again.",
        ambiguous=True,
    ),
    # "A 202 is not a success": Tenjin received the event and dropped it.
    AnswerRule(
        202,
        "invalid device identifier",
        PERMANENT,
        "Tenjin dropped the event: it has no valid advertising id. On Android send the device's "
        "advertising id (GAID); on iOS without tracking consent send zeros and the IDFV as "
        "developer_device_id.",
    ),
    AnswerRule(
        202,
        "not logged",
        PERMANENT,
        "Tenjin dropped the event because this SDK key is disabled: enable it in the Tenjin dashboard "
        "or put an enabled key on this app in s2sadmin.",
    ),
    AnswerRule(
        202,
        "ignored",
        PERMANENT,
        "Tenjin dropped the event: an app-version rule of this app ignores it (check app_version and "
        "the app's settings in Tenjin), or the event name is too long or over the 500-name limit.",
    ),
    AnswerRule(
        202,
        None,
        PERMANENT,
        "Tenjin answered 202: it received the event and did not record it. Read its message.",
    ),
    AnswerRule(
        401,
        "unauthorized",
        PERMANENT,
        "Tenjin does not accept this SDK key for this app: each bundle id and platform has its own key "
        "(an iOS key is refused for Android); copy this app's key from the Tenjin dashboard.",
    ),
    AnswerRule(
        401,
        None,
        PERMANENT,
        "Tenjin refused the SDK key: check that this app's key in s2sadmin is the one Tenjin shows for "
        "this bundle id and platform.",
    ),
    AnswerRule(
        404,
        "no such app",
        PERMANENT,
        "Tenjin has no app with this bundle id on this platform: check the bundle id and platform of "
        "this app in s2sadmin against the Tenjin dashboard.",
    ),
    AnswerRule(
        400,
        None,
        PERMANENT,
        "Tenjin refused the request as malformed; read its message, fix the event and send it again.",
    ),
    # UNCONFIRMED: Tenjin documents neither a rate limit nor retries. Its 5xx are not marked
    # ambiguous: Adjust documents 5xx answers for recorded events, Tenjin does not.
    *generic_rules("Tenjin", "TENJIN_BASE_URL", server_errors_ambiguous=False),
)

PHRASES = tuple(rule.prefix for rule in TENJIN_ANSWERS if rule.prefix)


def documented_success(answer: HttpAnswer) -> bool:
    """Tenjin's documented success (mmp-apis.md §2.6): a JSON object with "code": 200 (its doc) or
    "success": true (its SDK logs show both), and neither "success": false nor an error beside it."""
    data = json_object(answer.read_text())
    if data is None or "error" in data or data.get("success") is False:
        return False
    code = data.get("code")
    return data.get("success") is True or (type(code) is int and code == 200)


def tenjin_said(answer: HttpAnswer) -> tuple[str, str]:
    """(what the rows match, Tenjin's own words for the log), from everything read of the body."""
    text = answer.read_text()
    data = json_object(text) or {}
    message = data.get("message") if isinstance(data.get("message"), str) else ""
    if documented_success(answer):
        # {"code": 200, "success": true} says nothing a person needs to read: no words to quote.
        return "", message
    phrase = _phrase_in(message) or _phrase_in(text)
    words = message or phrase or excerpt(text)
    return phrase or words, words


def _phrase_in(text: str) -> str | None:
    lowered = text.lower()
    return next((phrase for phrase in PHRASES if phrase in lowered), None)


def classify_tenjin(answer: HttpAnswer) -> Verdict:
    key, words = tenjin_said(answer)
    rule = find_rule(TENJIN_ANSWERS, answer.status, key, success=documented_success(answer))
    return verdict_for(rule, answer, words)
