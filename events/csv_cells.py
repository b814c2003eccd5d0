"""CSV cells that spreadsheets will not run: a cell starting like a formula gets a leading quote."""

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value: Any) -> str:
    """Text from users or MMPs, defused for spreadsheets: a leading quote keeps it text."""
    value = "" if value is None else str(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def unguard(cell: str) -> str:
    """Undo safe_cell, so an exported file imports back unchanged."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] and cell[1:2] in FORMULA_STARTS else cell
