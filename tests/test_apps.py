"""Apps, for admins: list, create, edit, deactivate; the key is write-only and only ever masked."""

import pytest
from django.urls import reverse

from events.models import App, AuditEntry
from tests.conftest import ADJUST_APP_TOKEN, TENJIN_SDK_KEY

pytestmark = pytest.mark.django_db

NEW_KEY = "9x8y7w6v9f3a"


def page_urls(app):
    return [
        reverse("apps"),
        reverse("app_create"),
        reverse("app_detail", args=[app.pk]),
        reverse("app_edit", args=[app.pk]),
    ]


def change_urls(app):
    return [reverse("app_deactivate", args=[app.pk]), reverse("app_reactivate", args=[app.pk])]


def adjust_form(**overrides):
    data = {
        "provider": "adjust",
        "platform": "ios",
        "name": "Shop iOS",
        "bundle_id": "com.example.shop",
        "default_environment": "sandbox",
        "app_key": ADJUST_APP_TOKEN,
    }
    return {**data, **overrides}


@pytest.mark.parametrize("role", ["viewer", "marketer", "outsider"])
def test_only_admins_reach_the_app_pages(request, client_for, adjust_app, role):
    client = client_for(request.getfixturevalue(role))
    reads = [reverse("apps"), reverse("app_detail", args=[adjust_app.pk])]
    for url in page_urls(adjust_app):
        expected = 200 if role == "marketer" and url in reads else 403
        assert client.get(url).status_code == expected, url
    for url in [*change_urls(adjust_app), reverse("app_create"), reverse("app_edit", args=[adjust_app.pk])]:
        assert client.post(url, adjust_form()).status_code == 403, url
    assert App.objects.count() == 1 and App.objects.get().active


def test_an_anonymous_visitor_is_sent_to_log_in(client, adjust_app):
    for url in page_urls(adjust_app) + change_urls(adjust_app):
        response = client.post(url) if url in change_urls(adjust_app) else client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url


def test_deactivating_and_reactivating_refuse_get(client_for, admin, adjust_app):
    for url in change_urls(adjust_app):
        assert client_for(admin).get(url).status_code == 405


def test_an_unknown_app_is_a_404(client_for, admin):
    assert client_for(admin).get(reverse("app_detail", args=[999])).status_code == 404
    assert client_for(admin).post(reverse("app_deactivate", args=[999])).status_code == 404


def test_the_list_shows_each_app_with_its_key_masked(client_for, admin, adjust_app, tenjin_app):
    adjust_app.event_tokens.filter(token="2y7e81").update(archived_at="2024-01-01T00:00:00Z")
    response = client_for(admin).get(reverse("apps"))
    body = response.content.decode()
    assert "Demo Adjust iOS" in body and "Demo Tenjin Android" in body
    assert "••••b54d" in body and "••••FHDW" in body
    assert ADJUST_APP_TOKEN not in body and TENJIN_SDK_KEY not in body
    assert "com.tenjin.wordfinder" in body
    assert [a.event_token_count for a in response.context["apps"]] == [1, 2]


def test_an_admin_adds_an_adjust_app_and_the_audit_trail_keeps_only_the_mask(client_for, admin):
    response = client_for(admin).post(reverse("app_create"), adjust_form())
    app = App.objects.get(name="Shop iOS")
    assert response.status_code == 302 and response["Location"] == reverse("app_detail", args=[app.pk])
    assert app.app_key == ADJUST_APP_TOKEN and app.app_key_last4 == "b54d"
    entry = AuditEntry.objects.get(action="app.created")
    assert entry.actor == admin and entry.app == app and entry.changes["app_key"] == "••••b54d"
    assert ADJUST_APP_TOKEN not in str(entry.changes)
    page = client_for(admin).get(response["Location"]).content.decode()
    assert "Added the app" in page and ADJUST_APP_TOKEN not in page


def test_the_form_names_the_key_after_the_provider(client_for, admin, tenjin_app):
    assert "App token / SDK key" in client_for(admin).get(reverse("app_create")).content.decode()
    edit = client_for(admin).get(reverse("app_edit", args=[tenjin_app.pk])).content.decode()
    assert "SDK key" in edit and "Stored: ••••FHDW" in edit and TENJIN_SDK_KEY not in edit


def test_a_new_app_needs_its_key(client_for, admin):
    response = client_for(admin).post(reverse("app_create"), adjust_form(app_key=""))
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert not App.objects.exists()


def test_the_provider_rules_appear_next_to_their_fields_and_the_typed_key_is_not_echoed(client_for, admin):
    bad_key = "NOT-AN-ADJUST-TOKEN-1234"
    response = client_for(admin).post(reverse("app_create"), adjust_form(app_key=bad_key))
    assert response.status_code == 200
    assert "lowercase letters and digits" in " ".join(response.context["form"].errors["app_key"])
    assert bad_key not in response.content.decode()
    assert not App.objects.exists() and not AuditEntry.objects.exists()


def test_tenjin_apps_need_a_bundle_id_and_production(client_for, admin):
    data = adjust_form(provider="tenjin", platform="android", bundle_id="", app_key=TENJIN_SDK_KEY)
    response = client_for(admin).post(reverse("app_create"), data)
    errors = response.context["form"].errors
    assert "bundle id" in errors["bundle_id"][0] and "no sandbox" in errors["default_environment"][0]
    assert TENJIN_SDK_KEY not in response.content.decode()
    assert not App.objects.exists()


def test_model_rules_still_apply(client_for, admin, adjust_app):
    response = client_for(admin).post(reverse("app_create"), adjust_form(name=adjust_app.name))
    assert "already exists" in response.context["form"].errors["name"][0]


def test_a_provider_warning_is_shown_as_a_message(client_for, admin):
    response = client_for(admin).post(
        reverse("app_create"), adjust_form(app_key="abcdefgh1234xyz"), follow=True
    )
    assert "usually 12 characters" in response.content.decode()
    assert App.objects.filter(name="Shop iOS").exists()


def test_editing_with_a_blank_key_keeps_the_stored_one(client_for, admin, adjust_app):
    data = adjust_form(name="Renamed", bundle_id=adjust_app.bundle_id, app_key="")
    response = client_for(admin).post(reverse("app_edit", args=[adjust_app.pk]), data)
    assert response.status_code == 302
    adjust_app.refresh_from_db()
    assert adjust_app.name == "Renamed" and adjust_app.app_key == ADJUST_APP_TOKEN
    entry = AuditEntry.objects.get(action="app.updated")
    assert entry.changes == {"name": ["Demo Adjust iOS", "Renamed"]}


def test_a_new_key_is_audited_as_two_masks(client_for, admin, adjust_app):
    data = adjust_form(name=adjust_app.name, bundle_id=adjust_app.bundle_id, app_key=NEW_KEY)
    client_for(admin).post(reverse("app_edit", args=[adjust_app.pk]), data)
    adjust_app.refresh_from_db()
    assert adjust_app.app_key == NEW_KEY
    entry = AuditEntry.objects.get(action="app.updated")
    assert entry.changes == {"app_key": ["••••b54d", "••••9f3a"]}
    audit_page = client_for(admin).get(reverse("audit")).content.decode()
    assert "app key changed (••••b54d → ••••9f3a)" in audit_page
    assert NEW_KEY not in audit_page and ADJUST_APP_TOKEN not in audit_page


def test_an_edit_with_an_error_never_shows_either_key(client_for, admin, adjust_app):
    data = adjust_form(name="", app_key=NEW_KEY)
    response = client_for(admin).post(reverse("app_edit", args=[adjust_app.pk]), data)
    body = response.content.decode()
    assert response.status_code == 200 and "This field is required." in body
    assert NEW_KEY not in body and ADJUST_APP_TOKEN not in body
    adjust_app.refresh_from_db()
    assert adjust_app.app_key == ADJUST_APP_TOKEN


def test_saving_without_changes_writes_no_audit_entry(client_for, admin, adjust_app):
    data = adjust_form(name=adjust_app.name, bundle_id=adjust_app.bundle_id, app_key="")
    response = client_for(admin).post(reverse("app_edit", args=[adjust_app.pk]), data, follow=True)
    assert "Nothing changed." in response.content.decode()
    assert not AuditEntry.objects.exists()


def test_deactivating_and_reactivating_an_app(client_for, admin, adjust_app):
    client = client_for(admin)
    response = client.post(reverse("app_deactivate", args=[adjust_app.pk]), {"confirmed": "yes"}, follow=True)
    assert "nothing is sent for it" in response.content.decode()
    adjust_app.refresh_from_db()
    assert not adjust_app.active
    client.post(reverse("app_reactivate", args=[adjust_app.pk]))
    adjust_app.refresh_from_db()
    assert adjust_app.active
    assert list(AuditEntry.objects.order_by("id").values_list("action", "changes")) == [
        ("app.deactivated", {"active": [True, False]}),
        ("app.reactivated", {"active": [False, True]}),
    ]


def test_the_app_page_shows_the_tokens_and_no_secret(client_for, admin, adjust_security_token):
    from tests.conftest import ADJUST_SECURITY_TOKEN

    app = adjust_security_token.app
    body = client_for(admin).get(reverse("app_detail", args=[app.pk])).content.decode()
    assert "f0ob4r" in body and "2y7e81" in body
    assert "••••b54d" in body and "••••b5oe" in body
    assert ADJUST_APP_TOKEN not in body and ADJUST_SECURITY_TOKEN not in body


def test_no_app_page_renders_a_secret(client_for, admin, adjust_security_token, tenjin_app):
    from tests.conftest import ADJUST_SECURITY_TOKEN

    client = client_for(admin)
    client.post(reverse("app_deactivate", args=[tenjin_app.pk]), {"confirmed": "yes"})
    for app in (adjust_security_token.app, tenjin_app):
        for url in page_urls(app):
            body = client.get(url).content.decode()
            for secret in (ADJUST_APP_TOKEN, TENJIN_SDK_KEY, ADJUST_SECURITY_TOKEN):
                assert secret not in body, url


def test_the_nav_shows_apps_to_admins_and_marketers(client_for, admin, marketer, viewer):
    assert f'href="{reverse("apps")}"' in client_for(admin).get(reverse("overview")).content.decode()
    assert f'href="{reverse("apps")}"' in client_for(marketer).get(reverse("overview")).content.decode()
    assert f'href="{reverse("apps")}"' not in client_for(viewer).get(reverse("overview")).content.decode()


def test_a_marketer_reads_apps_and_event_tokens_without_secrets_or_changes(
    client_for, marketer, adjust_security_token
):
    app = adjust_security_token.app
    client = client_for(marketer)
    listing = client.get(reverse("apps")).content.decode()
    assert "Demo Adjust iOS" in listing and "••••" not in listing and "Add an app" not in listing
    page = client.get(reverse("app_detail", args=[app.pk])).content.decode()
    assert "f0ob4r" in page and "2y7e81" in page
    assert "••••" not in page and ADJUST_APP_TOKEN not in page  # no key, not even masked
    for change in ("app_edit", "app_deactivate", "security_tokens", "event_token_import", "event_token_add"):
        assert reverse(change, args=[app.pk]) not in page, change
    assert "Rename" not in page and "Delete…" not in page and "Recent changes" not in page


@pytest.mark.parametrize(
    ("name", "char"),
    [("Demo Adjust\u200b iOS", "U+200B"), ("Shop \u202eSOi", "U+202E"), ("Shop\u2066 iOS", "U+2066")],
)
def test_a_name_with_an_invisible_or_direction_changing_character_is_refused(
    client_for, admin, adjust_app, name, char
):
    response = client_for(admin).post(reverse("app_create"), adjust_form(name=name))
    assert char in response.context["form"].errors["name"][0]
    assert App.objects.count() == 1


def test_names_that_differ_only_in_how_an_accent_is_encoded_are_one_name(client_for, admin):
    client_for(admin).post(reverse("app_create"), adjust_form(name="Caf\u00e9 iOS"))  # é, one code point
    response = client_for(admin).post(reverse("app_create"), adjust_form(name="Cafe\u0301 iOS"))  # e + accent
    assert "already exists" in response.context["form"].errors["name"][0]
    assert list(App.objects.values_list("name", flat=True)) == ["Caf\u00e9 iOS"]
