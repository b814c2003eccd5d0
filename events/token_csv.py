"""Event tokens as CSV: check a whole file before anything is saved, then save it in one go.

Rows are `name,token` with an optional `kind` (event or purchase) and an optional header row.
The checked rows travel to the confirm step signed, so what is saved is exactly what was shown.
"""

import csv
import io
from dataclasses import dataclass, field

from django.core import signing
from django.db import transaction

from events.audit import record_change
from events.csv_cells import safe_cell, unguard
from events.forms.tokens import event_names_left, event_token_problem, too_many_names
from events.models import App, EventKind, EventToken
from events.names import name_problem

MAX_BYTES = 1_000_000
MAX_ROWS = 5_000
MAX_LENGTH = EventToken._meta.get_field("token").max_length
COLUMNS = ("name", "token", "kind")
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
SIGNING_SALT = "events.token_csv"
SIGNED_MAX_AGE = 3600


@dataclass(frozen=True)
class Row:
    line: int
    name: str
    token: str
    kind: str


@dataclass
class Report:
    good: list[Row] = field(default_factory=list)
    unchanged: list[Row] = field(default_factory=list)  # already there, same name and kind
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


class CsvUnusable(Exception):
    """The file as a whole cannot be read as event tokens; the message says what to do."""


class ImportConflict(Exception):
    """Tokens were added since the file was checked; nothing was saved."""


def parse(data: bytes, app: App) -> Report:
    if len(data) > MAX_BYTES:
        raise CsvUnusable(
            f"The file is larger than {MAX_BYTES // 1_000_000} MB; split it into smaller files."
        )
    if b"\x00" in data:
        raise CsvUnusable(
            "This is not a CSV file: it holds binary data. Save it from your spreadsheet as 'CSV UTF-8'."
        )
    # Undecodable bytes survive as surrogates, so the report can name the lines that hold them.
    text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="surrogateescape")
    records = _records(text)
    if not records:
        raise CsvUnusable("The file is empty: give one `name,token` row per event.")
    columns: tuple[str, ...] = COLUMNS
    has_header = _is_header(records[0][1])
    if has_header:
        columns = tuple(cell.strip().lower() for cell in records[0][1])
        records = records[1:]
    if len(records) > MAX_ROWS:
        raise CsvUnusable(f"The file has {len(records)} rows; import at most {MAX_ROWS} at a time.")
    if records and not any(_width_ok(cells, columns, has_header) for _, cells in records):
        raise CsvUnusable(
            "This is not a CSV of `name,token` rows: no line has the expected columns separated by commas."
        )
    return _check_rows(records, columns, app, has_header=has_header)


def _records(text: str) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    records = []
    line = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                records.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise CsvUnusable(f"This is not a readable CSV file: {exc} (line {reader.line_num}).") from None
    return records


def _is_header(cells: list[str]) -> bool:
    names = [cell.strip().lower() for cell in cells]
    return {"name", "token"} <= set(names) <= set(COLUMNS) and len(set(names)) == len(names)


def _width_ok(cells: list[str], columns: tuple[str, ...], has_header: bool) -> bool:
    return len(cells) == len(columns) if has_header else len(cells) in (2, 3)


def _check_rows(records, columns: tuple[str, ...], app: App, *, has_header: bool) -> Report:
    report = Report()
    existing = {t.token: t for t in app.event_tokens.all()}
    names_left = event_names_left(app)
    seen: dict[str, int] = {}
    for line, cells in records:
        if not _width_ok(cells, columns, has_header):
            expected = ",".join(columns) if has_header else "name,token or name,token,kind"
            hint = (
                " (separated by semicolons? Save the file with commas)"
                if len(cells) == 1 and ";" in cells[0]
                else ""
            )
            report.problems.append((line, f"Expected the columns {expected}; found {len(cells)}{hint}."))
            continue
        if any(_undecodable(cell) for cell in cells):
            report.problems.append((line, "Not valid UTF-8 text: save the file as 'CSV UTF-8'."))
            continue
        values = dict(zip(columns, (unguard(cell.strip()) for cell in cells), strict=False))
        row = Row(line, values["name"], values["token"], values.get("kind", "").lower() or EventKind.EVENT)
        problem = _row_problem(row, app, seen, existing)
        if problem is None and row.kind == EventKind.EVENT and names_left is not None:
            problem = too_many_names(app) if names_left <= 0 else None
            names_left -= 1
        if problem == "unchanged":
            report.unchanged.append(row)
        elif problem:
            report.problems.append((line, problem))
        else:
            report.good.append(row)
        if row.token:
            seen.setdefault(row.token, line)
    return report


def _row_problem(row: Row, app: App, seen: dict[str, int], existing: dict[str, EventToken]) -> str | None:
    missing = [name for name in ("name", "token") if not getattr(row, name)]
    if missing:
        return f"The {' and the '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing."
    for name in ("name", "token"):
        if len(getattr(row, name)) > MAX_LENGTH:
            return f"The {name} is too long: {len(getattr(row, name))} characters, at most {MAX_LENGTH}."
    invisible = name_problem(row.name, "The name")
    if invisible:
        return invisible
    if row.kind not in EventKind.values:
        return f"The kind must be 'event' or 'purchase', not '{row.kind}'."
    problem = event_token_problem(app, row.token, row.kind)
    if problem:
        return f"{row.token!r}: {problem}"
    if row.token in seen:
        return f"Duplicate in the file: the token '{row.token}' is already on line {seen[row.token]}."
    current = existing.get(row.token)
    if current is None:
        return None
    if current.archived:
        return f"The token '{row.token}' already exists, archived: restore it on the app's page."
    if current.name != row.name:
        return f"The token '{row.token}' already exists with another name ('{current.name}')."
    if current.kind != row.kind:
        return f"The token '{row.token}' already exists with the kind '{current.kind}'."
    return "unchanged"


def _undecodable(cell: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in cell)


def sign_rows(app: App, rows: list[Row]) -> str:
    payload = {"app": app.pk, "rows": [[r.line, r.name, r.token, r.kind] for r in rows]}
    return signing.dumps(payload, salt=SIGNING_SALT, compress=True)


def unsign_rows(app: App, value: str) -> list[Row]:
    """The rows as checked; signing.BadSignature (or SignatureExpired) if not ours or too old."""
    payload = signing.loads(value, salt=SIGNING_SALT, max_age=SIGNED_MAX_AGE)
    if payload.get("app") != app.pk:
        raise signing.BadSignature("checked for another app")
    return [Row(*values) for values in payload["rows"]]


def save_rows(app: App, rows: list[Row], actor) -> list[EventToken]:
    """All rows or none: if any token appeared since the check, ImportConflict and nothing saved."""
    with transaction.atomic():
        taken = list(
            EventToken.objects.filter(app=app, token__in=[r.token for r in rows]).values_list(
                "token", flat=True
            )
        )
        if taken:
            raise ImportConflict(
                f"Since the file was checked, these tokens were added: {', '.join(sorted(taken))}. "
                "Nothing was imported; upload the file again."
            )
        created = []
        for row in rows:
            token = EventToken.objects.create(app=app, name=row.name, token=row.token, kind=row.kind)
            record_change(actor, "event_token.imported", token, {"name": row.name, "token": row.token}, app)
            created.append(token)
    return created


def export(app: App) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for token in app.event_tokens.filter(archived_at__isnull=True).order_by("name", "token"):
        writer.writerow([safe_cell(token.name), safe_cell(token.token), token.kind])
    return out.getvalue()
