"""Event tokens on their app's page: add, rename, archive or delete, restore, and who reaches which
view (the CSV import and export themselves: test_event_token_csv.py)."""

import pytest
from django.urls import reverse

from events.models import AuditEntry, Delivery, EventToken, Source
from tests.conftest import ADJUST_APP_TOKEN, TENJIN_SDK_KEY

pytestmark = pytest.mark.django_db


def token_of(app, token):
    return app.event_tokens.get(token=token)


def urls(app):
    token = app.event_tokens.first()
    return {
        "get": [
            reverse("event_token_rename", args=[app.pk, token.pk]),
            reverse("event_token_import", args=[app.pk]),
            reverse("event_token_export", args=[app.pk]),
        ],
        "post": [
            reverse("event_token_add", args=[app.pk]),
            reverse("event_token_rename", args=[app.pk, token.pk]),
            reverse("event_token_remove", args=[app.pk, token.pk]),
            reverse("event_token_restore", args=[app.pk, token.pk]),
            reverse("event_token_import", args=[app.pk]),
            reverse("event_token_import_confirm", args=[app.pk]),
        ],
    }


@pytest.mark.parametrize("role", ["viewer", "marketer", "outsider"])
def test_only_admins_reach_the_event_token_views(request, client_for, adjust_app, role):
    client = client_for(request.getfixturevalue(role))
    for url in urls(adjust_app)["get"]:
        assert client.get(url).status_code == 403, url
    for url in urls(adjust_app)["post"]:
        assert client.post(url, {"name": "x", "token": "abc123"}).status_code == 403, url
    assert adjust_app.event_tokens.count() == 2


def test_an_anonymous_visitor_is_sent_to_log_in(client, adjust_app):
    for method, url_list in urls(adjust_app).items():
        for url in url_list:
            response = getattr(client, method)(url)
            assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url


def test_the_changing_views_refuse_get(client_for, admin, adjust_app):
    token = adjust_app.event_tokens.first()
    for name, args in [
        ("event_token_add", [adjust_app.pk]),
        ("event_token_remove", [adjust_app.pk, token.pk]),
        ("event_token_restore", [adjust_app.pk, token.pk]),
        ("event_token_import_confirm", [adjust_app.pk]),
    ]:
        assert client_for(admin).get(reverse(name, args=args)).status_code == 405, name


def test_a_token_of_another_app_is_a_404(client_for, admin, adjust_app, tenjin_app):
    other = tenjin_app.event_tokens.first()
    url = reverse("event_token_rename", args=[adjust_app.pk, other.pk])
    assert client_for(admin).get(url).status_code == 404
    assert (
        client_for(admin).post(reverse("event_token_remove", args=[adjust_app.pk, other.pk])).status_code
        == 404
    )


def test_an_admin_adds_an_event_token(client_for, admin, adjust_app):
    url = reverse("event_token_add", args=[adjust_app.pk])
    response = client_for(admin).post(
        url, {"name": "Level up", "token": "abc123", "kind": "event"}, follow=True
    )
    assert "Added the event &#x27;Level up&#x27; (abc123)." in response.content.decode()
    token = token_of(adjust_app, "abc123")
    entry = AuditEntry.objects.get(action="event_token.created")
    assert entry.app == adjust_app and entry.object_id == str(token.pk)
    assert entry.changes == {"name": "Level up", "token": "abc123", "kind": "event"}


def test_a_duplicate_token_is_refused_on_the_app_page(client_for, admin, adjust_app):
    url = reverse("event_token_add", args=[adjust_app.pk])
    response = client_for(admin).post(url, {"name": "Again", "token": "f0ob4r", "kind": "event"})
    assert response.status_code == 200
    assert "already has the token" in response.context["event_token_form"].errors["token"][0]
    assert ADJUST_APP_TOKEN not in response.content.decode()
    assert adjust_app.event_tokens.count() == 2


def test_purchases_are_for_tenjin_only(client_for, admin, adjust_app):
    url = reverse("event_token_add", args=[adjust_app.pk])
    response = client_for(admin).post(url, {"name": "Buy", "token": "buy123", "kind": "purchase"})
    form = response.context["event_token_form"]
    assert "Only Tenjin apps have purchase events" in form.non_field_errors()[0]
    assert "Only Tenjin apps have purchase events" in response.content.decode()


def test_tenjin_event_names_are_shorter_than_80_characters(client_for, admin, tenjin_app):
    url = reverse("event_token_add", args=[tenjin_app.pk])
    response = client_for(admin).post(url, {"name": "Long", "token": "e" * 80, "kind": "event"})
    assert "80 characters or more" in response.context["event_token_form"].errors["token"][0]
    assert TENJIN_SDK_KEY not in response.content.decode()
    client_for(admin).post(url, {"name": "Long", "token": "e" * 79, "kind": "event"})
    client_for(admin).post(url, {"name": "Gems", "token": "gems", "kind": "purchase"})
    assert tenjin_app.event_tokens.filter(token="e" * 79).exists()
    assert token_of(tenjin_app, "gems").kind == "purchase"


def test_renaming_keeps_the_token(client_for, admin, adjust_app):
    token = token_of(adjust_app, "f0ob4r")
    url = reverse("event_token_rename", args=[adjust_app.pk, token.pk])
    assert client_for(admin).get(url).status_code == 200
    client_for(admin).post(url, {"name": "Purchase (iOS)", "token": "changed"})
    token.refresh_from_db()
    assert token.name == "Purchase (iOS)" and token.token == "f0ob4r"
    assert AuditEntry.objects.get(action="event_token.renamed").changes == {
        "name": ["Purchase", "Purchase (iOS)"]
    }


def test_a_token_never_sent_is_deleted(client_for, admin, adjust_app):
    token = token_of(adjust_app, "2y7e81")
    response = client_for(admin).post(
        reverse("event_token_remove", args=[adjust_app.pk, token.pk]), {"confirmed": "yes"}, follow=True
    )
    assert "Deleted Signup (2y7e81): it had never been sent." in response.content.decode()
    assert not EventToken.objects.filter(pk=token.pk).exists()
    entry = AuditEntry.objects.get(action="event_token.deleted")
    assert entry.object_id == str(token.pk) and entry.app == adjust_app


def test_a_token_that_was_sent_is_archived_shown_apart_and_can_be_restored(client_for, admin, adjust_app):
    token = token_of(adjust_app, "f0ob4r")
    Delivery.objects.create(app=adjust_app, event_token=token, source=Source.FORM, environment="sandbox")
    client = client_for(admin)
    page = client.get(reverse("app_detail", args=[adjust_app.pk])).content.decode()
    assert ">Archive…</summary>" in page and ">Delete…</summary>" in page
    response = client.post(
        reverse("event_token_remove", args=[adjust_app.pk, token.pk]), {"confirmed": "yes"}, follow=True
    )
    body = response.content.decode()
    assert "Archived Purchase (f0ob4r): it has been sent before" in body
    assert response.context["archived_tokens"] == [token] and token not in response.context["event_tokens"]
    token.refresh_from_db()
    assert token.archived
    client.post(reverse("event_token_restore", args=[adjust_app.pk, token.pk]))
    token.refresh_from_db()
    assert not token.archived
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "event_token.archived",
        "event_token.restored",
    ]
