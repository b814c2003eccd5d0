"""Classification as data: each provider keeps a table of `AnswerRule` rows, read top to bottom.

A row matches an HTTP status (one code or a range) and, optionally, the start of the MMP's message.
A success row matches only the MMP's documented success answer, which the provider recognises by
its structure (a message that merely starts with "OK" is not it). The first matching row decides the outcome, so specific rows come before generic ones and every
table ends with a catch-all. The tables are meant to become the retry policy, so they stay plain.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from events.choices import Outcome
from events.providers.base import AnswerRule, Verdict
from events.providers.common import parse_retry_after
from events.transport import HttpAnswer, TransportError

ANY_STATUS = range(0, 1000)
EXCERPT_CHARS = 300
# An MMP's message is read from up to HTTP_CLASSIFY_MAX_BYTES of its answer; the rows and pages
# that show it keep this much.
MESSAGE_CHARS = 1000


def find_rule(
    rules: tuple[AnswerRule, ...], status: int, message: str, *, success: bool = False
) -> AnswerRule:
    """The first row that matches; `success`: the body is the MMP's documented success answer."""
    for rule in rules:
        if rule.matches(status, message, success=success):
            return rule
    raise LookupError(f"No classification row for HTTP {status}; the table needs a catch-all row.")


NOT_THE_MMP = (
    "This answer is a web page, not the MMP's API: something between s2sadmin and the MMP (a proxy, "
    "a load balancer, a captive portal) answered, so its text is not the MMP's words. "
)


def is_a_web_page(answer: HttpAnswer) -> bool:
    """An HTML page: MMP APIs answer JSON or plain text, so a page comes from something in between."""
    start = answer.text().lstrip()[:20].lower()
    content_type = (header(answer.headers, "Content-Type") or "").lower()
    return "html" in content_type or start.startswith(("<!doctype html", "<html"))


def verdict_for(rule: AnswerRule, answer: HttpAnswer, mmp_message: str) -> Verdict:
    location = header(answer.headers, "Location") or "(no Location header)"
    explanation = rule.render(status=answer.status, location=location[:200])
    if is_a_web_page(answer):
        mmp_message, explanation = "", NOT_THE_MMP + explanation
    retry_after = None
    if rule.outcome == Outcome.RETRY:
        retry_after = parse_retry_after(header(answer.headers, "Retry-After"))
    return Verdict(
        outcome=rule.outcome,
        mmp_message=mmp_message[:MESSAGE_CHARS],
        explanation=explanation,
        ambiguous=rule.ambiguous,
        retry_after=retry_after,
    )


def generic_rules(
    mmp: str, base_url_setting: str, *, server_errors_ambiguous: bool
) -> tuple[AnswerRule, ...]:
    """The rows every MMP shares, after its documented ones: redirects, throttling, server errors."""
    return (
        AnswerRule(
            range(300, 400),
            None,
            Outcome.PERMANENT,
            f"{mmp} answered with a redirect to {{location}}; s2sadmin does not follow redirects: "
            f"check {base_url_setting}.",
        ),
        AnswerRule(
            429,
            None,
            Outcome.RETRY,
            f"{mmp} is throttling requests (HTTP 429); the event is worth sending again later, "
            "after the wait it asked for.",
        ),
        AnswerRule(
            range(500, 600),
            None,
            Outcome.RETRY,
            f"{mmp} had a server error (HTTP {{status}}); the event is worth sending again later."
            + (
                f" {mmp} has recorded events despite answering 5xx, so a retry may count it twice."
                if server_errors_ambiguous
                else ""
            ),
            ambiguous=server_errors_ambiguous,
        ),
        AnswerRule(
            range(400, 500),
            None,
            Outcome.PERMANENT,
            f"{mmp} refused the request (HTTP {{status}}); sending it again unchanged will fail the same way. "
            "Read the response body for the reason.",
        ),
        AnswerRule(
            range(200, 300),
            None,
            Outcome.PERMANENT,
            f"{mmp} answered HTTP {{status}}, which is not how it confirms an event; it may or may not "
            "have recorded it. Read the response body before sending again.",
            ambiguous=True,
        ),
        AnswerRule(
            ANY_STATUS,
            None,
            Outcome.PERMANENT,
            f"{mmp} answered with an unexpected HTTP {{status}}; read the response body before sending again.",
        ),
    )


@dataclass(frozen=True)
class TransportRule:
    outcome: Outcome
    ambiguous: bool
    # What to do, after the transport's own sentence about what happened. May name {setting}.
    advice: str


# By TransportError.kind. Only read timeouts and dropped connections happen after the request
# may have reached the MMP, so only those are ambiguous.
TRANSPORT_RULES: dict[str, TransportRule] = {
    "not_allowed": TransportRule(
        Outcome.PERMANENT, False, "Check {setting}: s2sadmin only connects to the configured MMP hosts."
    ),
    "dns": TransportRule(
        Outcome.RETRY,
        False,
        "Nothing reached the MMP, so sending again is safe; if this lasts, check {setting}.",
    ),
    "refused": TransportRule(
        Outcome.RETRY,
        False,
        "Nothing reached the MMP, so sending again is safe; if this lasts, check {setting}.",
    ),
    "connect_timeout": TransportRule(
        Outcome.RETRY, False, "Nothing reached the MMP, so sending again is safe."
    ),
    "tls": TransportRule(
        Outcome.RETRY,
        False,
        "Nothing reached the MMP, so sending again is safe; if this lasts, check {setting} and the "
        "server's CA certificates.",
    ),
    "other": TransportRule(Outcome.RETRY, False, "Worth another try."),
    "read_timeout": TransportRule(
        Outcome.RETRY, True, "Sending it again may count it twice if the MMP did record it."
    ),
    "dropped": TransportRule(
        Outcome.RETRY, True, "Sending it again may count it twice if the MMP did record it."
    ),
}


def transport_verdict(error: TransportError, base_url_setting: str) -> Verdict:
    rule = TRANSPORT_RULES.get(error.kind, TRANSPORT_RULES["other"])
    return Verdict(
        outcome=rule.outcome,
        mmp_message="",
        explanation=f"{error.message} {rule.advice.format(setting=base_url_setting)}",
        ambiguous=rule.ambiguous,
    )


def header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def json_object(text: str) -> dict[str, Any] | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def excerpt(text: str) -> str:
    """What to show of a body we cannot read: its start, on one line."""
    return " ".join(text.split())[:EXCERPT_CHARS]
