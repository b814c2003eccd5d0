"""What Adjust's answers mean (mmp-apis.md §1.2 and §1.9), as one table.

Adjust answers `{"status": "OK"}` on success and `{"error": "Event request failed (<message>)"}`
otherwise; the message can carry a detail (`Bad event state: Ignoring duplicate event. ...`) or a
suffix (`(Device not found) (app_token: ..., adid: ...)`), so rows match the message's start.
"""

from events.choices import Outcome
from events.providers.answers import AnswerRule, excerpt, find_rule, generic_rules, json_object, verdict_for
from events.providers.base import Verdict
from events.transport import HttpAnswer

PERMANENT = Outcome.PERMANENT

ADJUST_ANSWERS: tuple[AnswerRule, ...] = (
    # Only the documented answer (see documented_success): not any message that starts with "OK".
    AnswerRule(200, None, Outcome.DELIVERED, "Adjust recorded the event.", documented_success=True),
    # A 200 without {"status": "OK"} (an `error` key, "OK, but ignored", a body that is not
    # Adjust's): a product choice not to call it delivered, and to flag it, since the status said success.
    AnswerRule(
        200,
        None,
        PERMANENT,
        'Adjust answered HTTP 200 but not with its usual {"status": "OK"}; it may or may not have '
        "recorded the event. Read its message before sending again.",
        ambiguous=True,
    ),
    # S2S Security, as its own page documents it (§1.2): 202 means received and not recorded.
    AnswerRule(
        202,
        "Missing authentication token",
        PERMANENT,
        "S2S Security is on for this app in Adjust and the request carried no token: add an active "
        "security token to this app in s2sadmin (Adjust: AppView → Protection → S2S Security).",
    ),
    AnswerRule(
        202,
        "Wrong authentication token",
        PERMANENT,
        "Adjust does not know this security token or it is inactive: copy an active token from "
        "Adjust (AppView → Protection → S2S Security) into this app in s2sadmin.",
    ),
    AnswerRule(
        202,
        None,
        PERMANENT,
        "Adjust answered 202, which it uses for requests it received but did not record (such as "
        "security-token problems): read its message.",
    ),
    AnswerRule(
        400,
        "Bad event state",
        PERMANENT,
        "The event does not fit what Adjust knows of this device: an event time before the install, "
        "earlier than the last event sent for this device and event token (events must arrive in "
        "time order), a replay, or older than 58 days. Read the detail after the colon.",
    ),
    AnswerRule(
        400,
        "Invalid app token",
        PERMANENT,
        "Adjust does not accept this app token: copy it again from the Adjust dashboard (app settings) "
        "into this app in s2sadmin.",
    ),
    AnswerRule(
        400,
        "Ignoring event, earlier unique event tracked",
        PERMANENT,
        "This event token is set to 'unique' in Adjust and this device already has it; Adjust counts "
        "it once per device. Use a non-unique event token if it should count every time.",
    ),
    AnswerRule(
        400,
        "Invalid callback parameters",
        PERMANENT,
        "Adjust could not read the callback or partner parameters: they must be a flat JSON object "
        "with string values.",
    ),
    AnswerRule(
        400,
        "Invalid event token",
        PERMANENT,
        "Adjust does not know this event token for this app: check it in the Adjust dashboard "
        "(a placeholder like abc123, or a token of another app, gives this).",
    ),
    AnswerRule(
        400,
        "Invalid revenue",
        PERMANENT,
        "Adjust refused the revenue: it must be a plain number from 0.001 to 100000000000.",
    ),
    AnswerRule(
        401,
        "Failed to authorize request",
        PERMANENT,
        "S2S Security is on for this app in Adjust and the security token is missing or wrong: add an "
        "active token from Adjust (AppView → Protection → S2S Security) to this app in s2sadmin.",
    ),
    AnswerRule(
        401,
        "Session failed",
        PERMANENT,
        "The security token is valid but lacks the scope for this endpoint: give it the Events scope "
        "in Adjust (AppView → Protection → S2S Security).",
    ),
    AnswerRule(
        401,
        None,
        PERMANENT,
        "Adjust refused the request's authentication: check this app's security token in s2sadmin "
        "against the active tokens and scopes in Adjust.",
    ),
    AnswerRule(
        403,
        "App is inactive",
        PERMANENT,
        "The app is deactivated in Adjust's dashboard: reactivate it there (or send to another app).",
    ),
    AnswerRule(
        403,
        "Tracking disabled",
        PERMANENT,
        "Measurement is not enabled in Adjust for this app's platform: enable the platform in the "
        "app's settings in Adjust.",
    ),
    AnswerRule(
        403,
        "Event token blocklisted",
        PERMANENT,
        "This event token is blocklisted in Adjust: unblock it in the dashboard or use another one.",
    ),
    AnswerRule(
        404,
        "App token not found",
        PERMANENT,
        "No Adjust app has this app token: copy the token again from the Adjust dashboard.",
    ),
    AnswerRule(
        404,
        "Device not found",
        PERMANENT,
        "Adjust has no install for this device yet; send the install through the SDK first or check "
        "the device id type and format (an idfa in the wrong case does not match).",
    ),
    AnswerRule(
        413,
        "Request size too large",
        PERMANENT,
        "The request is over Adjust's 1 MB limit: shorten the callback or partner parameters.",
    ),
    AnswerRule(
        451,
        "Device is opted out",
        PERMANENT,
        "This device is opted out at Adjust (for example after a GDPR forget request); Adjust will not "
        "record its events.",
    ),
    AnswerRule(
        500,
        "Internal error",
        Outcome.RETRY,
        "Adjust had an internal error; the event is worth sending again later. Adjust has recorded "
        "events despite answering 5xx, so a retry may count it twice.",
        ambiguous=True,
    ),
    # UNCONFIRMED: Adjust documents no rate limit for /event; a 429 is treated like elsewhere.
    *generic_rules("Adjust", "ADJUST_BASE_URL", server_errors_ambiguous=True),
)


def documented_success(answer: HttpAnswer) -> bool:
    """Adjust's one documented success answer (mmp-apis.md §1.9): a JSON object whose status is
    exactly "OK" and that carries no error. Other keys may come along, as in its /session answers."""
    data = json_object(answer.read_text())
    return data is not None and data.get("status") == "OK" and "error" not in data


def adjust_message(answer: HttpAnswer) -> str:
    """Adjust's own words: the text inside `... failed (...)`, the success status, or the body's start.

    Read from everything read of the body, not the stored copy: the message can sit past its cap."""
    text = answer.read_text()
    data = json_object(text)
    if data is not None:
        if isinstance(data.get("error"), str):
            return inner_message(data["error"])
        if isinstance(data.get("status"), str):
            return data["status"]
    return excerpt(text)


def inner_message(error: str) -> str:
    """`Event request failed (Device not found) (app_token: ...)` → `Device not found`.

    Only the first parenthesised group, with the parentheses nested inside it: the suffix groups
    repeat the app token, and the message is what the rows match.
    """
    marker = error.lower().find("failed (")
    if marker < 0:
        return error.strip()
    start = marker + len("failed (")
    depth = 1
    for index in range(start, len(error)):
        if error[index] == "(":
            depth += 1
        elif error[index] == ")":
            depth -= 1
            if depth == 0:
                return error[start:index].strip()
    return error[start:].strip()  # unbalanced (a cut body): everything after the opening one


def classify_adjust(answer: HttpAnswer) -> Verdict:
    message = adjust_message(answer)
    rule = find_rule(ADJUST_ANSWERS, answer.status, message, success=documented_success(answer))
    return verdict_for(rule, answer, message)
