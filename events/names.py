"""Names people pick from lists (apps, event tokens, security-token labels, API keys): one normal
form, and no invisible or direction-changing characters.

`Demo Adjust\u200b iOS` (a zero-width space) or a right-to-left override would sit beside the real
app in every dropdown, looking the same. Names are NFC-normalised, so names that differ only in how
an accent is encoded are one name (and a duplicate), and refused when they carry a format or
control character (Unicode categories Cf, Cc, Co, Cn, Cs) or a line or paragraph separator.
"""

import unicodedata

from django.core.exceptions import ValidationError

_INVISIBLE = frozenset({"Cf", "Cc", "Co", "Cn", "Cs", "Zl", "Zp"})


def normal_name(value: str) -> str:
    return unicodedata.normalize("NFC", value).strip()


def name_problem(value: str, field: str = "name") -> str | None:
    """Why this name cannot be used, or None."""
    for position, char in enumerate(value, 1):
        if unicodedata.category(char) in _INVISIBLE or (char.isspace() and char != " "):
            what = unicodedata.name(char, "a control character")
            return (
                f"{field} contains U+{ord(char):04X} ({what}) at character {position}: invisible and "
                "direction-changing characters are not allowed, so no name can pass for another."
            )
    return None


def clean_name(value: str, field: str = "name") -> str:
    """The normal form of a name from a form field; ValidationError naming the character."""
    value = normal_name(value or "")
    problem = name_problem(value, field)
    if problem:
        raise ValidationError(problem)
    return value
