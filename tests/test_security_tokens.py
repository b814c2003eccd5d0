"""Adjust S2S security tokens: typed once, only ever shown masked; add, rotate, activate, deactivate."""

import pytest
from django.urls import reverse
from django.utils import timezone

from events.models import AuditEntry, SecurityToken
from tests.conftest import ADJUST_APP_TOKEN, ADJUST_SECURITY_TOKEN

pytestmark = pytest.mark.django_db

NEW_VALUE = "q1w2e3r4t5y6u7i8o9p0a1s2d3f4c0de"


def change_urls(token):
    app = token.app
    return [
        reverse("security_token_add", args=[app.pk]),
        reverse("security_token_rotate", args=[app.pk]),
        reverse("security_token_activate", args=[app.pk, token.pk]),
        reverse("security_token_deactivate", args=[app.pk, token.pk]),
    ]


def page_url(app):
    return reverse("security_tokens", args=[app.pk])


def values(app):
    return {t.label: (t.active, t.value) for t in app.security_tokens.all()}


@pytest.mark.parametrize("role", ["viewer", "marketer", "outsider"])
def test_only_admins_reach_the_security_tokens(request, client_for, adjust_security_token, role):
    client = client_for(request.getfixturevalue(role))
    assert client.get(page_url(adjust_security_token.app)).status_code == 403
    for url in change_urls(adjust_security_token):
        assert client.post(url, {"label": "x", "value": NEW_VALUE}).status_code == 403, url
    assert values(adjust_security_token.app) == {"primary": (True, ADJUST_SECURITY_TOKEN)}


def test_an_anonymous_visitor_is_sent_to_log_in(client, adjust_security_token):
    assert client.get(page_url(adjust_security_token.app))["Location"].startswith(reverse("login"))
    for url in change_urls(adjust_security_token):
        response = client.post(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url


def test_every_change_refuses_get(client_for, admin, adjust_security_token):
    for url in change_urls(adjust_security_token):
        assert client_for(admin).get(url).status_code == 405, url


def test_tenjin_apps_have_no_security_tokens(client_for, admin, tenjin_app):
    assert client_for(admin).get(page_url(tenjin_app)).status_code == 404
    url = reverse("security_token_add", args=[tenjin_app.pk])
    assert client_for(admin).post(url, {"label": "x", "value": NEW_VALUE}).status_code == 404
    assert not SecurityToken.objects.exists()


def test_a_token_of_another_app_is_a_404(client_for, admin, adjust_security_token):
    from events.models import App

    other = App.objects.create(name="Other", provider="adjust", platform="android", app_key="abcdabcdabcd")
    url = reverse("security_token_deactivate", args=[other.pk, adjust_security_token.pk])
    assert client_for(admin).post(url).status_code == 404


def test_the_page_shows_the_token_only_masked_with_its_times(client_for, admin, adjust_security_token):
    adjust_security_token.last_used_at = timezone.now()
    adjust_security_token.save()
    body = client_for(admin).get(page_url(adjust_security_token.app)).content.decode()
    assert "••••b5oe" in body and "primary" in body
    assert timezone.now().strftime("%Y-%m-%d") in body
    assert ADJUST_SECURITY_TOKEN not in body and ADJUST_APP_TOKEN not in body


def test_the_first_token_added_is_active(client_for, admin, adjust_app):
    response = client_for(admin).post(
        reverse("security_token_add", args=[adjust_app.pk]),
        {"label": "first", "value": NEW_VALUE},
        follow=True,
    )
    body = response.content.decode()
    assert "it is active" in body and "••••c0de" in body and NEW_VALUE not in body
    assert values(adjust_app) == {"first": (True, NEW_VALUE)}
    entry = AuditEntry.objects.get(action="security_token.added")
    assert entry.changes == {"label": "first", "value": "••••c0de", "active": True}


def test_a_token_added_beside_an_active_one_waits_inactive(client_for, admin, adjust_security_token):
    app = adjust_security_token.app
    client_for(admin).post(
        reverse("security_token_add", args=[app.pk]), {"label": "spare", "value": NEW_VALUE}
    )
    assert values(app) == {"primary": (True, ADJUST_SECURITY_TOKEN), "spare": (False, NEW_VALUE)}


def test_rotating_makes_the_new_token_active_and_keeps_the_old_for_rollback(
    client_for, admin, adjust_security_token
):
    app = adjust_security_token.app
    response = client_for(admin).post(
        reverse("security_token_rotate", args=[app.pk]), {"label": "march", "value": NEW_VALUE}, follow=True
    )
    body = response.content.decode()
    assert "march (••••c0de) is now the active token" in body and "stays, inactive, for rollback" in body
    assert NEW_VALUE not in body and ADJUST_SECURITY_TOKEN not in body
    assert values(app) == {"primary": (False, ADJUST_SECURITY_TOKEN), "march": (True, NEW_VALUE)}
    assert app.active_security_token().label == "march"
    entry = AuditEntry.objects.get(action="security_token.rotated")
    assert entry.changes == {"label": ["primary", "march"], "value": ["••••b5oe", "••••c0de"]}


def test_activating_a_token_deactivates_the_others(client_for, admin, adjust_security_token):
    app = adjust_security_token.app
    spare = SecurityToken.objects.create(app=app, label="spare", value=NEW_VALUE, active=False)
    client_for(admin).post(reverse("security_token_activate", args=[app.pk, spare.pk]), {"confirmed": "yes"})
    assert values(app) == {"primary": (False, ADJUST_SECURITY_TOKEN), "spare": (True, NEW_VALUE)}
    assert set(AuditEntry.objects.values_list("action", "object_id")) == {
        ("security_token.activated", str(spare.pk)),
        ("security_token.deactivated", str(adjust_security_token.pk)),
    }


def test_deactivating_leaves_adjust_requests_without_a_token(client_for, admin, adjust_security_token):
    app = adjust_security_token.app
    url = reverse("security_token_deactivate", args=[app.pk, adjust_security_token.pk])
    response = client_for(admin).post(url, {"confirmed": "yes"}, follow=True)
    assert "go without a security token" in response.content.decode()
    assert values(app) == {"primary": (False, ADJUST_SECURITY_TOKEN)}
    assert AuditEntry.objects.get().changes == {"active": [True, False]}
    response = client_for(admin).post(url, {"confirmed": "yes"}, follow=True)
    assert "already inactive" in response.content.decode() and AuditEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"label": "", "value": NEW_VALUE}, "This field is required."),
        ({"label": "spaces", "value": NEW_VALUE[:10] + " " + NEW_VALUE[10:]}, "has no spaces"),
        ({"label": "again", "value": ADJUST_SECURITY_TOKEN}, "already has this token"),
        ({"label": "short", "value": "abc"}, "at least 8 characters"),
    ],
)
@pytest.mark.parametrize("view", ["security_token_add", "security_token_rotate"])
def test_a_refused_token_is_never_echoed_back(client_for, admin, adjust_security_token, view, data, error):
    app = adjust_security_token.app
    response = client_for(admin).post(reverse(view, args=[app.pk]), data)
    body = response.content.decode()
    assert response.status_code == 200 and error in body
    assert data["value"] not in body and ADJUST_SECURITY_TOKEN not in body
    assert app.security_tokens.count() == 1 and not AuditEntry.objects.exists()


def test_the_audit_trail_never_holds_a_token(client_for, admin, adjust_security_token):
    app = adjust_security_token.app
    client = client_for(admin)
    client.post(reverse("security_token_rotate", args=[app.pk]), {"label": "march", "value": NEW_VALUE})
    client.post(
        reverse("security_token_activate", args=[app.pk, adjust_security_token.pk]), {"confirmed": "yes"}
    )
    stored = str(list(AuditEntry.objects.values_list("changes", "object_repr")))
    assert NEW_VALUE not in stored and ADJUST_SECURITY_TOKEN not in stored
    for url in (reverse("audit"), reverse("app_detail", args=[app.pk]), page_url(app)):
        body = client.get(url).content.decode()
        assert NEW_VALUE not in body and ADJUST_SECURITY_TOKEN not in body, url
    assert "token changed (••••b5oe → ••••c0de)" in client.get(reverse("audit")).content.decode()


def test_enter_in_the_token_field_adds_it_inactive_never_rotates(client_for, admin, adjust_security_token):
    # Enter submits with the form's first submit button (HTML's implicit submission): it must be
    # the harmless one, not the rotation that replaces the token Adjust checks.
    app = adjust_security_token.app
    page = client_for(admin).get(reverse("security_tokens", args=[app.pk])).content.decode()
    form = page[page.index(f'action="{reverse("security_token_add", args=[app.pk])}"') :]
    first_button = form[form.index("<button") : form.index("</button>")]
    assert "formaction" not in first_button and "Add it inactive" in first_button
