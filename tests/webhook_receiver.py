"""A backend's result-callback endpoint for the tests: it checks the Standard Webhooks signature
with its own code (not s2sadmin's), as a real receiver would."""

import base64
import hashlib
import hmac
import json
import time


class Receiver:
    """A backend's endpoint: verifies each post as the Standard Webhooks spec says, with the
    secret it was given, and answers 204 when the signature holds, 401 when not; or, while
    `script` has entries, the next scripted status whatever the signature."""

    def __init__(self, secret: str = ""):
        self.secret = secret
        self.script: list[int] = []
        self.verified: list[dict] = []
        self.refused = 0

    def verify(self, headers: dict[str, str], body: bytes) -> bool:
        headers = {name.lower(): value for name, value in headers.items()}
        message_id, timestamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
        if not message_id or not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
            return False
        key = base64.b64decode(self.secret.removeprefix("whsec_"))
        signed = f"{message_id}.{timestamp}.".encode() + body
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        offered = [
            s.split(",", 1)[1] for s in headers.get("webhook-signature", "").split() if s.startswith("v1,")
        ]
        return any(hmac.compare_digest(candidate, expected) for candidate in offered)

    def __call__(self, handler) -> None:
        _, _, headers, body = handler.server.requests[-1]
        status = self.script.pop(0) if self.script else None
        if status is None:
            if self.verify(headers, body):
                self.verified.append({"headers": headers, "body": json.loads(body)})
                status = 204
            else:
                self.refused += 1
                status = 401
        handler.send_response(status)
        if 300 <= status < 400:
            handler.send_header("Location", "http://127.0.0.1:9/elsewhere")
        handler.send_header("Content-Length", "0")
        handler.end_headers()
