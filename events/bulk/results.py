"""The results of a bulk send as CSV: one line per row of the uploaded file, streamed.

The stored file is read again batch by batch and joined with the bulk's deliveries by line, one
query per batch; a row without a delivery is checked again to say why (invalid, refused by the
order and age guard, a duplicate id) or that it was never queued.
"""

import csv
from collections.abc import Iterator
from typing import Any

from events.api.ingest import Catalogue
from events.bulk.files import CsvUnusable, Row, check_rows, duplicate_message, open_rows
from events.bulk.models import BulkSend
from events.csv_cells import safe_cell
from events.models import Delivery

COLUMNS = ("line", "id", "delivery id", "status", "HTTP status", "MMP message", "explanation")
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
DELIVERY_FIELDS = ("pk", "bulk_line", "status", "last_http_status", "last_message", "last_explanation")


class _Echo:
    """csv.writer writes into this and gets the line back, so each row can be yielded."""

    def write(self, value: str) -> str:
        return value


def result_lines(bulk: BulkSend) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    catalogue = Catalogue([bulk.app])
    try:
        with open_rows(bulk) as batches:
            for rows in batches:
                for cells in _results(bulk, rows, catalogue):
                    yield writer.writerow([safe_cell(cell) for cell in cells])
    except CsvUnusable as exc:
        yield writer.writerow(["", "", "", "error", "", "", safe_cell(str(exc))])


def _results(bulk: BulkSend, rows: list[Row], catalogue: Catalogue) -> Iterator[list[Any]]:
    deliveries = {
        d.bulk_line: d
        for d in Delivery.objects.filter(
            bulk_send=bulk, bulk_line__gte=rows[0].line, bulk_line__lte=rows[-1].line
        ).only(*DELIVERY_FIELDS)
    }
    missing = [row for row in rows if row.line not in deliveries]
    checked = check_rows(missing, catalogue) if missing else None
    why = {result.index: result for result in checked.results} if checked else {}
    for row in rows:
        d = deliveries.get(row.line)
        if d is not None:
            http = d.last_http_status if d.last_http_status is not None else ""
            yield [row.line, row.id, d.pk, d.status, http, d.last_message, d.last_explanation]
            continue
        result = why[row.line]
        kind = checked.kind(result)
        if kind == "valid":
            yield [row.line, row.id, "", "not sent", "", "", _not_sent(bulk)]
        elif kind == "duplicate":
            yield [row.line, row.id, result.delivery_id or "", "duplicate", "", "", duplicate_message(result)]
        else:
            status = "refused" if kind == "guarded" else "invalid"
            yield [row.line, row.id, "", status, "", "", flat_errors(result.errors)]


def _not_sent(bulk: BulkSend) -> str:
    if bulk.state == BulkSend.State.CANCELLED:
        return "Not sent: the bulk send was cancelled before this row was queued."
    if bulk.state == BulkSend.State.QUEUEING:
        return "Not queued yet."
    return "Not sent: it had a problem when the rows were queued, and passes now; upload it again to send it."


def flat_errors(errors: dict[str, list[str]]) -> str:
    return "; ".join(
        f"{name}: {' '.join(msgs)}" if name != "__all__" else " ".join(msgs) for name, msgs in errors.items()
    )
