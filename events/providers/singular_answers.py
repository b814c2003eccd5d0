"""What Singular's answers mean (mmp-apis-more.md §1.2, "Responses"), as one table.

Singular answers HTTP 200 to everything it reads, refusals included: `{"status":"ok"}` means sent to
its queue, `{"status":"error","reason":...}` a refusal whose reason says whether to try again. So the
rows match a key made from the body, never the status code alone: `ok`, `error: <reason>`, or the
body's start when it is not Singular's JSON. "Any other code means you should retry" [DOC].
"""

from events.choices import Outcome
from events.providers.answers import AnswerRule, excerpt, find_rule, generic_rules, json_object, verdict_for
from events.providers.base import Verdict
from events.transport import HttpAnswer

PERMANENT = Outcome.PERMANENT
RETRY = Outcome.RETRY
# Keys this module makes from the body; not words Singular writes.
OK = "status: ok"
ERROR = "status: error, "
FIX_AND_RESEND = " Singular keeps device-level data for good, so fix the event before sending it again."

SINGULAR_ANSWERS: tuple[AnswerRule, ...] = (
    AnswerRule(200, OK, Outcome.DELIVERED, "Singular accepted the event into its processing queue."),
    # The documented reasons of invalid parameters: "do not retry invalid-parameter errors" [DOC].
    AnswerRule(
        200,
        ERROR + "missing argument",
        PERMANENT,
        "Singular refused the event: a required parameter is missing (named after the colon)."
        + FIX_AND_RESEND,
    ),
    AnswerRule(
        200,
        ERROR + "invalid platform",
        PERMANENT,
        "Singular does not know this platform name; check the app's platform in s2sadmin." + FIX_AND_RESEND,
    ),
    AnswerRule(
        200,
        ERROR + "no device id",
        PERMANENT,
        "Singular found no device id in the event: send the sdid (v2) or the advertising ids (v1)."
        + FIX_AND_RESEND,
    ),
    AnswerRule(
        200,
        ERROR + "platform:",
        PERMANENT,
        "Singular wants another device id for this platform (named in its message), e.g. the idfv on iOS."
        + FIX_AND_RESEND,
    ),
    # UNCONFIRMED wording for an unknown key (the emulator's choice); any "invalid ..." is a parameter.
    AnswerRule(
        200,
        ERROR + "invalid",
        PERMANENT,
        "Singular refused a parameter as invalid (an unknown SDK key reads 'invalid sdk key': copy the SDK "
        "key, not the Reporting API key, from Developer Tools → SDK Integration)." + FIX_AND_RESEND,
    ),
    AnswerRule(
        200,
        ERROR,
        RETRY,
        "Singular answered with an error that is not about the event's parameters; it is worth sending "
        "again later, in order.",
    ),
    AnswerRule(
        200,
        None,
        RETRY,
        'Singular answered HTTP 200 without its {"status": ...} body; s2sadmin cannot tell whether it '
        "queued the event and sends it again later.",
        ambiguous=True,
    ),
    # Not Singular's own words but its rule: every other status is worth a retry, 4xx included.
    AnswerRule(
        range(300, 400),
        None,
        PERMANENT,
        "Singular answered with a redirect to {location}; s2sadmin does not follow redirects: check "
        "SINGULAR_BASE_URL.",
    ),
    AnswerRule(
        range(400, 500),
        None,
        RETRY,
        "Singular answered HTTP {status}; its documentation says any answer but 200 is worth a retry.",
    ),
    *generic_rules("Singular", "SINGULAR_BASE_URL", server_errors_ambiguous=False),
)


def singular_said(answer: HttpAnswer) -> tuple[str, str]:
    """(the key the rows match, Singular's own words for the log)."""
    text = answer.text()
    data = json_object(text)
    if data is None or not isinstance(data.get("status"), str):
        return excerpt(text), excerpt(text)
    status = data["status"].strip().lower()
    reason = data.get("reason") if isinstance(data.get("reason"), str) else ""
    if status == "ok":
        return OK, excerpt(text)
    if status == "error":
        return ERROR + reason.strip(), reason or excerpt(text)
    return excerpt(text), excerpt(text)


def classify_singular(answer: HttpAnswer) -> Verdict:
    key, words = singular_said(answer)
    return verdict_for(find_rule(SINGULAR_ANSWERS, answer.status, key), answer, words)
