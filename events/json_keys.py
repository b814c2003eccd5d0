"""JSON objects with a key given twice are refused, whichever door they come through.

Python's json keeps the last of repeated keys without a word; another reader may keep the first.
Neither is safe for an event's parameters, an API body or a config file, so each refuses them,
naming the key, with an error of its own kind.
"""

from collections.abc import Callable
from typing import Any

PairsHook = Callable[[list[tuple[str, Any]]], dict[str, Any]]


def unique_keys(refusal: Callable[[str], Exception]) -> PairsHook:
    """An object_pairs_hook for json.loads that raises refusal(key) for a key given twice."""

    def build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise refusal(key)
            result[key] = value
        return result

    return build
