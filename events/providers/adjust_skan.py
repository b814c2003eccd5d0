"""SKAdNetwork values in Adjust's answers (mmp-apis-more.md §2.2).

Adjust's iOS SDK reads top-level `skadn_conv_value` (0-63), `skadn_coarse_value` (low, medium,
high) and `skadn_lock_window` (0/1) from every backend answer; Adjust documents that S2S events get
"the conversion value ... as an S2S response" but not under which keys. UNCONFIRMED: we read the
SDK's keys first and also accept the plain spellings `conversion_value`, `coarse_value` and
`lock_window` (pinned by tests/test_skan.py, marked unconfirmed). A value of the wrong shape is
left out rather than guessed at: the raw answer stays on the attempt for anyone to read.
"""

from typing import Any

from events.providers.answers import json_object
from events.providers.base import SkanValues
from events.transport import HttpAnswer

FINE_KEYS = ("skadn_conv_value", "conversion_value")
COARSE_KEYS = ("skadn_coarse_value", "coarse_value")
LOCK_KEYS = ("skadn_lock_window", "lock_window")
COARSE_VALUES = ("low", "medium", "high")
MAX_FINE_VALUE = 63  # Apple's range for the fine conversion value


def skan_values(answer: HttpAnswer) -> SkanValues | None:
    """The SKAN values at the top level of a JSON answer; None when it carries none."""
    data = json_object(answer.read_text())
    if data is None:
        return None
    values = SkanValues(
        fine_value=_fine(_first(data, FINE_KEYS)),
        coarse_value=_coarse(_first(data, COARSE_KEYS)),
        lock_window=_lock(_first(data, LOCK_KEYS)),
    )
    return values or None


def _first(data: dict[str, Any], keys: tuple[str, ...]) -> Any:
    return next((data[key] for key in keys if key in data), None)


def _fine(value: Any) -> int | None:
    if isinstance(value, bool):  # JSON true is not a conversion value
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, int) and 0 <= value <= MAX_FINE_VALUE:
        return value
    return None


def _coarse(value: Any) -> str:
    if isinstance(value, str) and value.strip().lower() in COARSE_VALUES:
        return value.strip().lower()
    return ""


def _lock(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if value in (0, 1, "0", "1"):
        return int(value) == 1
    return None
