"""U+0000 cannot be stored by PostgreSQL (text or jsonb) and no MMP field needs it: inputs that
carry one are refused where they come in, with the field named."""

from collections.abc import Mapping
from typing import Any


def has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(has_nul(v) for v in value)
    return False
