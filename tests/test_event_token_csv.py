"""Event tokens as CSV: the import reports every bad row before anything is saved, then saves the
checked rows in one go on confirm; the export is safe to open in a spreadsheet."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from events.forms.tokens import too_many_names
from events.models import AuditEntry, EventToken
from tests.conftest import ADJUST_APP_TOKEN

pytestmark = pytest.mark.django_db


def token_of(app, token):
    return app.event_tokens.get(token=token)


def test_the_export_is_a_csv_of_the_active_tokens_safe_for_spreadsheets(client_for, admin, adjust_app):
    for name, token in [
        ('=HYPERLINK("http://evil")', "evil01"),
        ("+1", "plus01"),
        ("-1", "minus1"),
        ("@SUM(A1)", "at0001"),
    ]:
        EventToken.objects.create(app=adjust_app, name=name, token=token)
    EventToken.objects.create(app=adjust_app, name="Old", token="old001", archived_at="2024-01-01T00:00:00Z")
    response = client_for(admin).get(reverse("event_token_export", args=[adjust_app.pk]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="demo-adjust-ios-event-tokens.csv"'
    assert list(csv.reader(io.StringIO(response.content.decode()))) == [
        ["name", "token", "kind"],
        ["'+1", "plus01", "event"],
        ["'-1", "minus1", "event"],
        ['\'=HYPERLINK("http://evil")', "evil01", "event"],
        ["'@SUM(A1)", "at0001", "event"],
        ["Purchase", "f0ob4r", "event"],
        ["Signup", "2y7e81", "event"],
    ]
    assert ADJUST_APP_TOKEN not in response.content.decode()


def test_an_exported_file_imports_back_unchanged(client_for, admin, adjust_app, tenjin_app):
    EventToken.objects.create(app=adjust_app, name="=1+1", token="formul")
    exported = client_for(admin).get(reverse("event_token_export", args=[adjust_app.pk])).content
    adjust_app.event_tokens.all().delete()
    response = upload(client_for(admin), adjust_app, exported)
    assert response.context["report"].problems == []
    confirm(client_for(admin), adjust_app, response)
    assert sorted(adjust_app.event_tokens.values_list("name", "token")) == [
        ("=1+1", "formul"),
        ("Purchase", "f0ob4r"),
        ("Signup", "2y7e81"),
    ]


def upload(client, app, content: bytes, filename="tokens.csv"):
    url = reverse("event_token_import", args=[app.pk])
    return client.post(url, {"file": SimpleUploadedFile(filename, content, content_type="text/csv")})


def confirm(client, app, response, **kwargs):
    url = reverse("event_token_import_confirm", args=[app.pk])
    return client.post(url, {"rows": response.context["signed"]}, **kwargs)


def test_the_import_page_explains_the_format(client_for, admin, tenjin_app):
    body = client_for(admin).get(reverse("event_token_import", args=[tenjin_app.pk])).content.decode()
    assert "name,token" in body and "purchase" in body


def test_a_file_with_bad_rows_gets_a_report_naming_each_line_and_saves_nothing(client_for, admin, tenjin_app):
    EventToken.objects.create(app=tenjin_app, name="Old", token="gone", archived_at="2024-01-01T00:00:00Z")
    content = (
        "name,token,kind\n"  # 1: header
        "Tutorial done,tutorial_done,event\n"  # 2: good
        ",no_name,event\n"  # 3: missing name
        "No token,,event\n"  # 4: missing token
        "Again,tutorial_done,event\n"  # 5: duplicate of line 2
        "Other name,purchase,purchase\n"  # 6: exists as 'Purchase'
        f"Too long,{'x' * 80},event\n"  # 7: too long for Tenjin
        "Extra,a,event,surplus\n"  # 8: wrong column count
        "\n"  # 9: blank, skipped
        "Gems,gems,purchase\n"  # 10: good
        "Weird,weird,refund\n"  # 11: unknown kind
        "Level up,level_up,event\n"  # 12: already there, unchanged
        "Old again,gone,event\n"  # 13: archived
    ).encode() + b"Caf\xe9,cafe,event\n"  # 14: Latin-1, not UTF-8
    response = upload(client_for(admin), tenjin_app, content)
    assert response.status_code == 200
    report = response.context["report"]
    problems = dict(report.problems)
    assert sorted(problems) == [3, 4, 5, 6, 7, 8, 11, 13, 14]
    assert problems[3] == "The name is missing."
    assert problems[4] == "The token is missing."
    assert problems[5] == "Duplicate in the file: the token 'tutorial_done' is already on line 2."
    assert problems[6] == "The token 'purchase' already exists with another name ('Purchase')."
    assert "80 characters or more" in problems[7]
    assert problems[8] == "Expected the columns name,token,kind; found 4."
    assert problems[11] == "The kind must be 'event' or 'purchase', not 'refund'."
    assert "archived" in problems[13]
    assert "UTF-8" in problems[14]
    assert [row.line for row in report.good] == [2, 10]
    assert [row.line for row in report.unchanged] == [12]
    body = response.content.decode()
    assert "nothing is saved yet" in body and "Import 2 rows, skip 9" in body
    assert tenjin_app.event_tokens.count() == 3 and not AuditEntry.objects.exists()

    response = confirm(client_for(admin), tenjin_app, response, follow=True)
    assert "Imported 2 event tokens." in response.content.decode()
    assert token_of(tenjin_app, "gems").kind == "purchase"
    assert token_of(tenjin_app, "tutorial_done").name == "Tutorial done"
    assert AuditEntry.objects.filter(action="event_token.imported", app=tenjin_app).count() == 2


def test_a_good_file_without_a_header_saves_every_row(client_for, admin, adjust_app):
    rows = [f"Event {n},tok{n:03}" for n in range(50)]
    response = upload(client_for(admin), adjust_app, ("\r\n".join(rows) + "\r\n").encode("utf-8-sig"))
    assert response.context["report"].problems == [] and len(response.context["report"].good) == 50
    confirm(client_for(admin), adjust_app, response)
    assert adjust_app.event_tokens.count() == 52
    assert token_of(adjust_app, "tok007").name == "Event 7"


def test_a_duplicate_heavy_file_is_reported_not_a_500(client_for, admin, adjust_app):
    content = ("name,token\n" + "Same,same01\n" * 3000).encode()
    response = upload(client_for(admin), adjust_app, content)
    assert response.status_code == 200
    assert len(response.context["report"].problems) == 2999 and len(response.context["report"].good) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty"),
        (b"\n\n  \n", "The file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV file: it holds binary data"),
        (b'{\n  "events": 1\n}\n', "no line has the expected columns"),
        (b"name;token\nPurchase;f0ob4r\n", "no line has the expected columns"),
        (b"a,b\n" * 5001, "import at most 5000"),
        (b"x" * 1_000_001, "larger than 1 MB"),
        (b'name,token\n"unterminated,abc\n', "no line has the expected columns"),
    ],
)
def test_a_malformed_file_gets_a_clear_error_and_saves_nothing(
    client_for, admin, adjust_app, content, message
):
    response = upload(client_for(admin), adjust_app, content)
    assert response.status_code == 200
    assert message in response.context["error"]
    assert "Nothing was saved." in response.content.decode()
    assert adjust_app.event_tokens.count() == 2


def test_a_semicolon_row_gets_a_hint(client_for, admin, adjust_app):
    response = upload(client_for(admin), adjust_app, b"Purchase,abc123\nSignup;def456\n")
    assert "semicolons" in dict(response.context["report"].problems)[2]


def test_posting_without_a_file_asks_for_one(client_for, admin, adjust_app):
    response = client_for(admin).post(reverse("event_token_import", args=[adjust_app.pk]))
    assert response.context["error"] == "Choose a CSV file to upload."


def test_purchase_rows_are_refused_for_adjust(client_for, admin, adjust_app):
    response = upload(client_for(admin), adjust_app, b"Buy,buy001,purchase\n")
    assert "Only Tenjin apps have purchase events" in response.context["report"].problems[0][1]


def test_changed_rows_are_refused_at_the_confirm_step(client_for, admin, adjust_app):
    response = upload(client_for(admin), adjust_app, b"Level,lvl001\n")
    signed = response.context["signed"]
    url = reverse("event_token_import_confirm", args=[adjust_app.pk])
    response = client_for(admin).post(url, {"rows": signed[:-3] + "abc"}, follow=True)
    assert "changed on the way" in response.content.decode()
    assert client_for(admin).post(url, {"rows": ""}).status_code == 302
    assert adjust_app.event_tokens.count() == 2 and not AuditEntry.objects.exists()


def test_rows_checked_for_one_app_cannot_be_saved_in_another(client_for, admin, adjust_app, tenjin_app):
    response = upload(client_for(admin), adjust_app, b"Level,lvl001\n")
    url = reverse("event_token_import_confirm", args=[tenjin_app.pk])
    client_for(admin).post(url, {"rows": response.context["signed"]})
    assert not EventToken.objects.filter(token="lvl001").exists()


def test_a_token_added_after_the_check_means_nothing_is_saved(client_for, admin, adjust_app):
    response = upload(client_for(admin), adjust_app, b"Level,lvl001\nWin,win001\n")
    EventToken.objects.create(app=adjust_app, name="Win", token="win001")
    response = confirm(client_for(admin), adjust_app, response, follow=True)
    assert "these tokens were added: win001" in response.content.decode()
    assert not adjust_app.event_tokens.filter(token="lvl001").exists()


TOO_MANY_NAMES = "Tenjin keeps at most 500 event names per app and drops any beyond; reuse an existing name."


def test_tenjin_takes_at_most_500_event_names_per_app(client_for, admin, tenjin_app):
    # The cast has one event (level_up) and one purchase; 498 more leaves room for one name.
    EventToken.objects.bulk_create(
        EventToken(app=tenjin_app, name=f"E{n}", token=f"e{n}") for n in range(498)
    )
    response = upload(client_for(admin), tenjin_app, b"Last,last\nOne too many,extra\nGems,gems,purchase\n")
    assert response.context["report"].problems == [(2, too_many_names(tenjin_app))]
    confirm(client_for(admin), tenjin_app, response)
    url = reverse("event_token_add", args=[tenjin_app.pk])
    response = client_for(admin).post(url, {"name": "More", "token": "more", "kind": "event"})
    assert response.context["event_token_form"].errors["token"] == [too_many_names(tenjin_app)]
    assert tenjin_app.event_tokens.filter(kind="event").count() == 500
    assert token_of(tenjin_app, "gems").kind == "purchase"
