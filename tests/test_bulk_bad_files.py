"""CSV bulk sends of files that cannot be used: each gets a clear error at upload or from the check,
never a 500, and nothing is stored or sent."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from events.models import BulkSend
from tests.bulk_helpers import *  # noqa: F403 (the fixtures as_marketer and media, autouse)
from tests.bulk_helpers import State, checked, many_rows, run_bulk_jobs, upload
from tests.conftest import IDFA

pytestmark = pytest.mark.django_db(transaction=True)


# --- Bad files: a clear error, never a 500 -------------------------------------------------------

HEADER = "id,event,idfa\n"
ROW = f"1,f0ob4r,{IDFA}\n"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"\n\n" + ROW.encode(), "The first line is empty"),
        (HEADER.encode(), "no events below it"),
        ("id,event,idfa\n1,f0ob4r,é\n".encode("latin-1"), "not UTF-8"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00binary", "binary data"),
        (f"id;event;idfa\n1;f0ob4r;{IDFA}\n".encode(), "not separated by commas"),
        (f"idfa,name\n{IDFA},f0ob4r\n".encode(), "There is no event column"),
        (f"id,event,idfa,colour,gps_adid\n1,f0ob4r,{IDFA},red,x\n".encode(), "Unknown columns: colour, gps_adid"),
        (f"id,event,event\n1,f0ob4r,{IDFA}\n".encode(), "more than once: event"),
        (b"event,callback.\nf0ob4r,1\n", "name after the dot"),
        (f'event,idfa\n"f0ob4r,{IDFA}\n'.encode(), "Line 2 is not valid CSV: unexpected end of data"),
    ],
    ids=[
        "empty", "no-header", "header-only", "latin-1", "binary", "semicolons", "no-event-column",
        "unknown-columns", "duplicate-column", "nameless-callback", "unclosed-quote",
    ],
)  # fmt: skip
def test_an_unusable_file_gets_a_clear_error_and_nothing_is_stored(as_marketer, adjust_app, data, message):
    response = upload(as_marketer, adjust_app, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not BulkSend.objects.exists()


def test_a_file_too_large_is_refused_at_upload(as_marketer, adjust_app, settings):
    settings.BULK_MAX_BYTES = 100
    response = upload(as_marketer, adjust_app, many_rows(10))
    assert "upload at most" in response.content.decode()
    assert not BulkSend.objects.exists()


def test_more_rows_than_the_limit_stop_the_check_with_a_clear_error(as_marketer, adjust_app, settings):
    settings.BULK_MAX_ROWS = 3
    bulk = checked(as_marketer, adjust_app, many_rows(5))
    assert bulk.state == State.ERROR
    assert bulk.error == "The file has more than 3 rows; split it into files of 3 rows or fewer."
    page = as_marketer.get(reverse("bulk_detail", args=[bulk.pk]))
    assert page.status_code == 200 and "split it into files" in page.content.decode()


def test_bytes_that_are_not_utf8_further_down_the_file_are_reported_with_their_line(as_marketer, adjust_app):
    text = many_rows(2000).encode() + f"x,f0ob4r,{IDFA},caf\xe9\n".encode("latin-1")
    assert len(text) > 64 * 1024
    bulk = checked(as_marketer, adjust_app, text)
    assert bulk.state == State.ERROR
    assert "not UTF-8 text (line 2002)" in bulk.error


def test_a_missing_stored_file_ends_the_check_with_an_error(as_marketer, adjust_app):
    as_marketer.post(
        reverse("bulk_upload"),
        {"app": adjust_app.pk, "file": SimpleUploadedFile("a.csv", many_rows(2).encode())},
    )
    bulk = BulkSend.objects.get()
    bulk.file.storage.delete(bulk.file.name)
    run_bulk_jobs()
    bulk.refresh_from_db()
    assert (bulk.state, bulk.error) == (
        State.ERROR,
        "The uploaded file is no longer stored on the server; upload it again.",
    )
