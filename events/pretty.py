"""Bodies and headers as a person reads them: form bodies decoded into key/value rows, JSON indented,
and the SKAdNetwork conversion-value keys (mmp-apis.md §1.14) found wherever an answer carries them.

Everything here returns plain text; templates escape it. Nothing is ever marked safe, because
request and response bodies are untrusted text (an MMP, or the emulator, may answer anything).
"""

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

# The keys Adjust's iOS SDK reads from backend answers; the S2S answer format is UNCONFIRMED, so
# any key starting with the prefix is highlighted, at any depth.
SKAN_PREFIX = "skadn_"


@dataclass(frozen=True)
class Line:
    text: str
    skan: bool = False


@dataclass
class Body:
    """One body ready to show: `kind` is "form", "json", "text" or "empty"."""

    kind: str
    raw: str
    # A form body's (key, value) pairs, values that are JSON themselves indented.
    pairs: list[tuple[str, str]] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    skan: dict[str, Any] = field(default_factory=dict)

    @property
    def pretty(self) -> str:
        return "\n".join(line.text for line in self.lines)


def header(headers: dict[str, str] | None, name: str) -> str:
    """A header's value, whatever the case of its name; "" when absent."""
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return value
    return ""


def decode_body(raw: str, content_type: str = "") -> Body:
    """A form body as key/value pairs, a JSON body indented, anything else as it came."""
    if not raw:
        return Body(kind="empty", raw="")
    data = parse_json(raw)
    if data is not None:
        return _json_body(raw, data)
    if "application/x-www-form-urlencoded" in content_type.lower():
        pairs = [(key, pretty_value(value)) for key, value in parse_qsl(raw, keep_blank_values=True)]
        lines = [Line(f"{key}={value}", skan=key.startswith(SKAN_PREFIX)) for key, value in pairs]
        return Body(kind="form", raw=raw, pairs=pairs, lines=lines)
    return Body(kind="text", raw=raw, lines=[Line(text) for text in raw.splitlines()])


def parse_json(raw: str) -> Any:
    """The JSON object or array in `raw`, or None (scalars are not worth re-indenting)."""
    stripped = raw.strip()
    if not stripped or stripped[0] not in "{[":
        return None
    try:
        return json.loads(stripped)
    except ValueError:
        return None


def pretty_value(value: str) -> str:
    """A parameter value indented when it is itself JSON (callback_params), else as it is."""
    data = parse_json(value)
    if data is None:
        return value
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False)


def skan_keys(data: Any) -> dict[str, Any]:
    """Every skadn_* key in a decoded JSON value, by its dotted path."""
    found: dict[str, Any] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                here = f"{path}.{key}" if path else str(key)
                if str(key).startswith(SKAN_PREFIX):
                    found[here] = item
                walk(item, here)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{path}[{index}]")

    walk(data, "")
    return found


def _json_body(raw: str, data: Any) -> Body:
    text = json.dumps(data, indent=2, ensure_ascii=False)
    # One key per line after indenting, so a line holding `"skadn_...":` is that key's line.
    lines = [Line(line, skan=line.lstrip().startswith(f'"{SKAN_PREFIX}')) for line in text.splitlines()]
    return Body(kind="json", raw=raw, lines=lines, skan=skan_keys(data))
