"""Characters no input may carry, refused where inputs come in, with the field named:

- U+0000, which PostgreSQL cannot store (text or jsonb) and no MMP field needs;
- a lone surrogate (U+D800-U+DFFF on its own, e.g. from JSON's "\\udc80"), which is not text:
  it cannot be encoded as UTF-8 to be stored, echoed or sent.
"""

import re
from collections.abc import Mapping
from typing import Any

LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def has_nul(value: Any) -> bool:
    return _any_text(value, lambda text: "\x00" in text)


def has_lone_surrogate(value: Any) -> bool:
    return _any_text(value, lambda text: bool(LONE_SURROGATE.search(text)))


def unstorable_problem(value: Any) -> str | None:
    """Why this value (text, or any nesting of objects and arrays) cannot be taken, or None."""
    if has_nul(value):
        return "contains a NUL character (U+0000), which is not allowed."
    if has_lone_surrogate(value):
        return "contains half of a UTF-16 pair on its own (a lone surrogate such as \\udc80): not valid text."
    return None


def printable(text: str) -> str:
    """The text with NULs and lone surrogates replaced by U+FFFD, safe to echo back and store."""
    return LONE_SURROGATE.sub("\ufffd", text.replace("\x00", "\ufffd"))


def _any_text(value: Any, test) -> bool:
    if isinstance(value, str):
        return test(value)
    if isinstance(value, Mapping):
        return any(_any_text(k, test) or _any_text(v, test) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_any_text(v, test) for v in value)
    return False
