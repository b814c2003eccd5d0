"""Copy as curl: the exact request as a shell command, each secret replaced by an environment variable
reference ("$ADJUST_S2S_TOKEN", "$TENJIN_SDK_KEY"), everything else single-quoted so the shell
expands nothing in it.

Two sources: a request about to be built (plain secrets, known from `OutboundRequest.secrets`) and
a stored attempt (secrets already masked as ••••a1b2, recognised by the last four characters the
models keep), so a page never has to decrypt a secret just to show a command.
"""

import base64
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

from events.models import App, Attempt
from events.providers import get_provider
from events.secrets import MASK
from events.transport import USER_AGENT, OutboundRequest

# A stored attempt keeps the wire headers; curl writes these from the URL and the body itself, the
# same way, and a copied Content-Length would be wrong as soon as someone edits the body.
CURL_WRITES_ITSELF = frozenset({"host", "content-length"})


@dataclass(frozen=True)
class CurlCommand:
    text: str

    @property
    def variables(self) -> list[str]:
        """The environment variables the command reads, to set before running it."""
        return list(dict.fromkeys(re.findall(r'"\$([A-Z0-9_]+)[:"]', self.text)))

    def __str__(self) -> str:
        return self.text


def app_key_variable(app: App) -> str:
    """ADJUST_APP_TOKEN or TENJIN_SDK_KEY: the provider and the name the MMP gives the key."""
    return _variable(f"{app.provider} {get_provider(app).key_label}")


def security_token_variable(app: App) -> str:
    return _variable(f"{app.provider} s2s token")


def curl_for_request(app: App, request: OutboundRequest) -> CurlCommand:
    """The command for a request built from plain secrets (the test form's preview)."""
    names: dict[str, str] = {}
    token = app.active_security_token()
    for index, secret in enumerate(request.secrets):
        if secret == app.app_key:
            name = app_key_variable(app)
        elif token is not None and secret == token.value:
            name = security_token_variable(app)
        else:
            name = _variable(f"{app.provider} secret {index + 1}")
        # Percent-encoded forms too: the variable then holds the raw value, which is what an
        # MMP token is (letters and digits), so the command stays exact in practice.
        for form in (secret, quote(secret, safe=""), quote_plus(secret)):
            names.setdefault(form, name)
    body = request.body.decode("utf-8", errors="replace")
    return CurlCommand(curl_command(request.method, request.url, request.headers, body, names))


def curl_for_attempt(attempt: Attempt) -> CurlCommand:
    """The command for a stored attempt, whose secrets were masked before it was saved."""
    app = attempt.delivery.app
    names = {_masked(app.app_key_last4): app_key_variable(app)}
    for token in app.security_tokens.all():
        names.setdefault(_masked(token.value_last4), security_token_variable(app))
    return CurlCommand(
        curl_command(attempt.method, attempt.url, attempt.request_headers, attempt.request_body, names)
    )


def curl_command(
    method: str, url: str, headers: Mapping[str, str], body: str, secrets: Mapping[str, str]
) -> str:
    """`secrets` maps each text to hide (plain or masked) to the variable that stands for it."""
    lines = [f"curl -X {shlex.quote(method)} {_word(url, secrets)}"]
    for name, value in headers.items():
        if name.lower() in CURL_WRITES_ITSELF:
            continue
        user = _basic_auth_user(name, value, secrets)
        if user:
            # Basic auth is base64 of "key:", which a variable cannot be spliced into: let curl
            # encode it from the variable.
            lines.append(f'-u "${user}:"')
        else:
            lines.append(f"-H {_word(f'{name}: {value}', secrets)}")
    if not any(name.lower() == "user-agent" for name in headers):
        lines.append(f"-H {shlex.quote(f'User-Agent: {USER_AGENT}')}")
    if body:
        lines.append(f"--data-raw {_word(body, secrets)}")
    return " \\\n  ".join(lines)


def _variable(words: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", words.upper()).strip("_")


def _masked(last4: str) -> str:
    return MASK + last4


def _word(text: str, secrets: Mapping[str, str]) -> str:
    """One shell word: literal runs single-quoted, each secret as "$VARIABLE", concatenated."""
    needles = sorted((s for s in secrets if s), key=len, reverse=True)
    if not needles:
        return shlex.quote(text)
    pieces = re.split("(" + "|".join(re.escape(s) for s in needles) + ")", text)
    out = []
    for piece in pieces:
        if piece in secrets:
            out.append(f'"${secrets[piece]}"')
        elif piece:
            out.append(shlex.quote(piece))
    return "".join(out) or "''"


def _basic_auth_user(name: str, value: str, secrets: Mapping[str, str]) -> str | None:
    """The variable for a Basic credential whose user is a secret and whose password is empty."""
    if name.lower() != "authorization" or not value.startswith("Basic "):
        return None
    credential = value.removeprefix("Basic ").strip()
    if credential in secrets:  # stored: the whole base64 credential was masked
        return secrets[credential]
    try:
        user, _, password = base64.b64decode(credential, validate=True).decode().partition(":")
    except ValueError:
        # Not base64 at all: the mask of a key rotated since (its last four no longer match), or
        # whatever a stored row holds. The header is then shown as stored, masked.
        return None
    return secrets.get(user) if not password else None
