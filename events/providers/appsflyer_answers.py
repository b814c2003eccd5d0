"""What AppsFlyer's answers mean (mmp-apis-more.md §1.1, "Responses"), as one table.

AppsFlyer answers with a bare string: `OK`, `Failed to Authenticate`, `Unauthorized`, ... Its schema
declares JSON, so the words may also come as a JSON string (`"OK"`); both read the same here.
"""

import json

from events.choices import Outcome
from events.providers.answers import AnswerRule, excerpt, find_rule, generic_rules, verdict_for
from events.providers.base import Verdict
from events.transport import HttpAnswer

PERMANENT = Outcome.PERMANENT

APPSFLYER_ANSWERS: tuple[AnswerRule, ...] = (
    AnswerRule(
        200,
        "OK",
        Outcome.DELIVERED,
        "AppsFlyer received the event. Its 200 OK means minimal validation only: AppsFlyer may still "
        "not record it (check its raw data or Test Console if in doubt).",
    ),
    AnswerRule(
        200,
        None,
        PERMANENT,
        "AppsFlyer answered HTTP 200 without its usual OK; it may or may not have recorded the event. "
        "Read its message before sending again.",
        ambiguous=True,
    ),
    AnswerRule(
        400,
        "Failed to Authenticate",
        PERMANENT,
        "AppsFlyer does not know this S2S token: copy an active S2S token from AppsFlyer's Security "
        "Center (api3 takes S2S tokens, not the old dev key) into this app in s2sadmin.",
    ),
    AnswerRule(
        400,
        "appsflyer_id is a mandatory field",
        PERMANENT,
        "AppsFlyer needs the appsflyer_id of the install (missing or not readable): read it from the "
        "SDK (getAppsFlyerUID) and send it with the event.",
    ),
    AnswerRule(
        400,
        "Payload is missing or failed to parse",
        PERMANENT,
        "AppsFlyer could not read the body: not JSON, more than one event, or (UNCONFIRMED) over 1 KB.",
    ),
    AnswerRule(
        400,
        "Bad request",
        PERMANENT,
        "AppsFlyer refused a field of the event (a validation rule); check the event name and value.",
    ),
    AnswerRule(
        401,
        "Unauthorized",
        PERMANENT,
        "This S2S token belongs to another AppsFlyer app: use the token of this app id, or check the "
        "app id in s2sadmin.",
    ),
    AnswerRule(
        403,
        None,
        PERMANENT,
        "AppsFlyer refuses S2S events for this app: its plan does not take them (the zero plan, or a "
        "plan whose quota is used up). S2S events are an Enterprise feature; ask your AppsFlyer CSM.",
    ),
    AnswerRule(
        400,
        None,
        PERMANENT,
        "AppsFlyer refused the request (HTTP 400), for instance an app id that does not match the "
        "token; read its message, fix the event or the app and send it again.",
    ),
    # Documented as the answer to a non-stringified eventValue, which s2sadmin never sends (it
    # serialises the value itself), so a 500 is taken as a server error, worth another try.
    # UNCONFIRMED: 429 is not documented; likely under the 60,000/min limit. AppsFlyer documents no
    # recorded-despite-5xx answers, so 5xx are not marked ambiguous.
    *generic_rules("AppsFlyer", "APPSFLYER_BASE_URL", server_errors_ambiguous=False),
)


def appsflyer_said(answer: HttpAnswer) -> str:
    """AppsFlyer's words: the bare string, unwrapped when it came as a JSON string."""
    body = answer.text().strip()
    try:
        decoded = json.loads(body)
    except ValueError:
        decoded = None
    if isinstance(decoded, str):
        body = decoded.strip()
    return excerpt(body)


def classify_appsflyer(answer: HttpAnswer) -> Verdict:
    words = appsflyer_said(answer)
    return verdict_for(find_rule(APPSFLYER_ANSWERS, answer.status, words), answer, words)
