"""CSV files of events for bulk sends: their columns, the template to fill in, their rows read as a
stream in batches, and what each row would become.

A file is never read whole: csv.reader runs over a text wrapper of the stored file and rows come out
in batches of BATCH_SIZE, so a 100,000-row file costs the memory of one batch. Each row becomes the
provider-neutral item the API takes, and is validated by the same code (events/api/ingest.py).
"""

import codecs
import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings

from events.api.ingest import Batch, Catalogue, ItemResult, check_batch
from events.bulk.models import BulkSend
from events.models import App, Source
from events.providers import get_provider

BATCH_SIZE = 1000
MAX_PROBLEMS = 500
SNIFF_BYTES = 64 * 1024
# Neutral fields a column may name as is; device ids, callback and partner params have their own.
PLAIN_FIELDS = ("created_at", "revenue", "currency", "environment", "ip_address", "user_agent")
STRUCTURED = frozenset({"device_ids", "callback_params", "partner_params", "fields"})
PREFIXES = {"callback.": "callback_params", "partner.": "partner_params"}


def takes(app: App) -> list[str]:
    """Every field the app's MMP takes, as its provider describes them (any event kind)."""
    return ["environment", *(spec.name for spec in get_provider(app).event_fields(app))]


class CsvUnusable(Exception):
    """The file as a whole cannot be read as events; the message says what to do."""


def max_rows() -> int:
    return getattr(settings, "BULK_MAX_ROWS", 100_000)


def max_bytes() -> int:
    return getattr(settings, "BULK_MAX_BYTES", 50 * 1024 * 1024)


# --- Columns ---------------------------------------------------------------------------------


def provider_fields(app: App) -> list[str]:
    """The MMP's own fields a column may name, besides device ids and the plain neutral ones."""
    return [n for n in takes(app) if n not in STRUCTURED and n not in PLAIN_FIELDS]


def template_columns(app: App) -> list[str]:
    """The columns of the app's template: those its MMP takes, the usual ones first."""
    fields = takes(app)
    return [
        "id",
        "event",
        *get_provider(app).device_id_types(app),
        *(name for name in PLAIN_FIELDS if name in fields),
        *provider_fields(app),
    ]


def template_csv(app: App) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(template_columns(app))
    return buffer.getvalue()


@dataclass(frozen=True)
class Column:
    kind: str  # id | event | device_ids | callback_params | partner_params | plain | fields | skip
    name: str

    @property
    def label(self) -> str:
        """The column as a header names it (callback.user_id, not user_id)."""
        prefix = next((p for p, kind in PREFIXES.items() if kind == self.kind), "")
        return prefix + self.name


class Columns:
    """What each column of a file's header means for this app; CsvUnusable when it cannot work."""

    def __init__(self, header: list[str], app: App):
        self.app = app
        self.columns = [self._column(cell.strip(), app) for cell in _without_trailing_blanks(header)]
        if len(self.columns) == 1 and any(sep in header[0] for sep in ";\t|"):
            raise CsvUnusable(
                "The columns are not separated by commas (the first line is one column). Save the file "
                "from your spreadsheet as 'CSV UTF-8 (comma delimited)'."
            )
        # By what a column fills: callback.user_id and partner.user_id, or callback.idfa and idfa,
        # are different columns that share a name.
        targets = [(c.kind, c.name) for c in self.columns if c.kind != "skip"]
        twice = sorted(
            {c.label for c in self.columns if c.kind != "skip" and targets.count((c.kind, c.name)) > 1}
        )
        if twice:
            raise CsvUnusable(f"These columns appear more than once: {', '.join(twice)}. Keep one of each.")
        if ("event", "event") not in targets:
            raise CsvUnusable(
                "There is no event column. The first line must name the columns, for example "
                f"{','.join(template_columns(app)[:3])}; the event column holds the event token or name."
            )
        unnamed = [str(i) for i, c in enumerate(self.columns, 1) if c.kind == "skip"]
        if unnamed:
            raise CsvUnusable(f"Column {', '.join(unnamed)} has no name in the first line.")
        unknown = [c.name for c in self.columns if c.kind == "unknown"]
        if unknown:
            raise CsvUnusable(
                f"Unknown columns: {', '.join(unknown)}. {app.name} takes id, event, its device ids "
                f"({', '.join(get_provider(app).device_id_types(app))}), {', '.join(PLAIN_FIELDS)}, "
                f"callback.<name>, partner.<name>, and the {get_provider(app).label} fields "
                f"{', '.join(provider_fields(app))}."
            )
        bad_prefix = [c.name for c in self.columns if c.kind in PREFIXES.values() and not c.name]
        if bad_prefix:
            raise CsvUnusable(
                "A callback. or partner. column needs the parameter's name after the dot, e.g. callback.user_id."
            )

    @staticmethod
    def _column(name: str, app: App) -> Column:
        if not name:
            return Column("skip", "")
        for prefix, kind in PREFIXES.items():
            if name.lower().startswith(prefix):
                return Column(kind, name[len(prefix) :].strip())
        name = name.lower()
        if name in ("id", "event"):
            return Column(name, name)
        if name in get_provider(app).device_id_types(app):
            return Column("device_ids", name)
        if name in PLAIN_FIELDS:
            return Column("plain", name)
        if name in provider_fields(app):
            return Column("fields", name)
        return Column("unknown", name)

    def item(self, cells: list[str]) -> dict[str, Any]:
        """The provider-neutral item of one row (the API's shape); empty cells are not given."""
        item: dict[str, Any] = {"app": self.app.pk}
        for column, cell in zip(self.columns, cells, strict=False):
            value = cell.strip()
            if not value:
                continue
            if column.kind in ("id", "event", "plain"):
                item[column.name] = value
            else:
                item.setdefault(column.kind, {})[column.name] = value
        return item


def _without_trailing_blanks(header: list[str]) -> list[str]:
    # A spreadsheet may save a few empty cells after the last named column.
    end = len(header)
    while end and not header[end - 1].strip():
        end -= 1
    return header[:end]


# --- Reading a stored file -------------------------------------------------------------------


@dataclass
class Row:
    line: int
    id: str
    item: dict[str, Any] | None
    error: str = ""  # the row cannot be read as an event at all


def check_start(data: bytes) -> None:
    """Refuse binary data from the first bytes, before reading rows."""
    if not data:
        raise CsvUnusable("The file is empty.")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise CsvUnusable(_NOT_UTF8.format(where="it is UTF-16"))
    if b"\x00" in data:
        raise CsvUnusable(
            "This is not a CSV file: it holds binary data (a spreadsheet file?). Save it from your "
            "spreadsheet as 'CSV UTF-8'."
        )


_NOT_UTF8 = "The file is not UTF-8 text ({where}). Save it from your spreadsheet as 'CSV UTF-8'."


def read_columns(binary: IO[bytes], app: App) -> Columns:
    """The checked header of an uploaded file; the file is left where it was."""
    start = binary.tell()
    try:
        check_start(binary.read(SNIFF_BYTES))
        binary.seek(start)
        with _text(binary) as text:
            records = _records(text)
            columns = _columns(next(records, None), app)
            if not any(any(cell.strip() for cell in cells) for _, cells in records):
                raise CsvUnusable("The file has a header line but no events below it.")
            return columns
    finally:
        binary.seek(start)


@contextmanager
def open_rows(bulk: BulkSend) -> Iterator[Iterator[list[Row]]]:
    """The stored file's data rows in batches of BATCH_SIZE; CsvUnusable for file-level problems
    (raised when the batches are read)."""
    try:
        stored = bulk.file.open("rb")
    except FileNotFoundError:
        raise CsvUnusable("The uploaded file is no longer stored on the server; upload it again.") from None
    with stored as binary:
        check_start(binary.read(SNIFF_BYTES))
        binary.seek(0)
        with _text(binary) as text:
            records = _records(text)
            columns = _columns(next(records, None), bulk.app)
            yield _batches(records, columns)


@contextmanager
def _text(binary: IO[bytes]) -> Iterator[io.TextIOWrapper]:
    # Undecodable bytes come through as surrogates, so _records can name their line.
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
    try:
        yield text
    finally:
        text.detach()  # closing the wrapper would close the caller's file


def _columns(record: tuple[int, list[str]] | None, app: App) -> Columns:
    if record is None:
        raise CsvUnusable("The file is empty.")
    if not any(cell.strip() for cell in record[1]):
        raise CsvUnusable("The first line is empty: it must name the columns, e.g. id,event,idfa.")
    return Columns(record[1], app)


def _records(text: io.TextIOWrapper) -> Iterator[tuple[int, list[str]]]:
    """(the line a record starts on, its cells); file-level problems raise CsvUnusable."""
    reader = csv.reader(text, strict=True)
    end = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CsvUnusable(f"Line {end + 1} is not valid CSV: {exc}.") from None
        line, end = end + 1, reader.line_num  # quoted cells can span lines
        if not all(cell.isascii() for cell in cells):
            try:
                "".join(cells).encode()
            except UnicodeEncodeError:
                raise CsvUnusable(_NOT_UTF8.format(where=f"line {line}")) from None
        yield line, cells


def _batches(records: Iterator[tuple[int, list[str]]], columns: Columns) -> Iterator[list[Row]]:
    width = len(columns.columns)
    id_at = next((i for i, c in enumerate(columns.columns) if c.kind == "id"), None)
    batch: list[Row] = []
    for line, cells in records:
        if not any(cell.strip() for cell in cells):
            continue
        row_id = cells[id_at].strip()[:100] if id_at is not None and id_at < len(cells) else ""
        if len(cells) > width and any(cell.strip() for cell in cells[width:]):
            error = f"This line has {len(cells)} cells but the first line names {width} columns."
            batch.append(Row(line, row_id, None, error))
        else:
            batch.append(Row(line, row_id, columns.item(cells)))
        if len(batch) == BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


# --- Checking rows ---------------------------------------------------------------------------


@dataclass
class Checked:
    """A batch of rows after validation: what each row would become."""

    batch: Batch
    results: list[ItemResult] = field(default_factory=list)

    def kind(self, result: ItemResult) -> str:
        """valid | invalid | guarded | duplicate."""
        if result.index in self.batch.guarded:
            return "guarded"
        if result.status == "duplicate":
            return "duplicate"
        return "invalid" if result.errors else "valid"


def check_rows(rows: list[Row], catalogue: Catalogue) -> Checked:
    readable = [row for row in rows if row.item is not None]
    batch = check_batch(
        [row.item for row in readable], catalogue, source=Source.BULK, indexes=[row.line for row in readable]
    )
    unreadable = [
        ItemResult(index=row.line, id=row.id or None, status="rejected", errors={"row": [row.error]})
        for row in rows
        if row.item is None
    ]
    return Checked(batch, sorted([*batch.results, *unreadable], key=lambda r: r.index))


def problem(checked: Checked, result: ItemResult) -> dict[str, Any]:
    """What the report keeps of a row that will not be sent."""
    entry: dict[str, Any] = {"line": result.index, "kind": checked.kind(result), "id": result.id or ""}
    if result.status == "duplicate":
        entry["errors"] = {"id": [duplicate_message(result)]}
        entry["delivery_id"] = result.delivery_id
    else:
        entry["errors"] = result.errors
    return entry


def duplicate_message(result: ItemResult) -> str:
    if result.delivery_id:
        return f"The id '{result.id}' was sent before (delivery {result.delivery_id}); this row is skipped."
    return f"The id '{result.id}' appears on an earlier line of this file; only the first is sent."
