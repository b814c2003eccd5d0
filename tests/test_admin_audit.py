"""Changes made in Django's admin are in the audit trail like the dashboard's: the app's fields, the
event and security tokens edited inline on its page, users and their passwords; secrets masked,
passwords never recorded."""

from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model

from events.models import App, AuditEntry
from tests.conftest import ADJUST_SECURITY_TOKEN, PASSWORD

pytestmark = pytest.mark.django_db

NEW_KEY = "n3wk3y0f12ch"


class FormFields(HTMLParser):
    """The values a browser would post for the page's main form (inputs, selects, textareas)."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, str | list[str]] = {}
        self._select = self._textarea = None
        self._multiple = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") != "checkbox" or "checked" in attrs:
                self.data[name] = attrs.get("value", "on" if attrs.get("type") == "checkbox" else "")
        elif tag == "select" and name:
            self._select, self._multiple = name, "multiple" in attrs
            if not self._multiple:
                self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attrs:
            value = attrs.get("value", "")
            if self._multiple:
                self.data.setdefault(self._select, []).append(value)
            else:
                self.data[self._select] = value
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data.strip()


def admin_form(client, url: str) -> dict[str, str]:
    parser = FormFields()
    parser.feed(client.get(url).content.decode())
    return parser.data


def test_an_app_changed_in_the_admin_is_audited_with_its_inline_tokens(
    client_for, admin, adjust_security_token
):
    app = adjust_security_token.app
    client = client_for(admin)
    url = f"/admin/events/app/{app.pk}/change/"
    data = admin_form(client, url)
    data.update({"bundle_id": "com.example.changed", "new_secret": NEW_KEY})
    signup = next(k for k, v in data.items() if k.startswith("event_tokens-") and v == "2y7e81")
    data[signup.replace("-token", "-name")] = "Sign-up"
    token = next(k for k, v in data.items() if k.startswith("security_tokens-") and k.endswith("-active"))
    del data[token]  # untick: the security token is deactivated
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    entries = {e.action: e.changes for e in AuditEntry.objects.all()}
    assert entries["app.updated"] == {
        "bundle_id": ["com.example.demo", "com.example.changed"],
        "app_key": ["••••b54d", "••••12ch"],
        "via": "Django admin",
    }
    assert entries["event_token.updated"] == {"name": ["Signup", "Sign-up"], "via": "Django admin"}
    assert entries["security_token.updated"] == {"active": [True, False], "via": "Django admin"}
    stored = str(list(AuditEntry.objects.values_list("changes", "object_repr")))
    assert NEW_KEY not in stored and ADJUST_SECURITY_TOKEN not in stored
    assert App.objects.get().bundle_id == "com.example.changed"


def test_an_app_added_and_deleted_in_the_admin_is_audited(client_for, django_user_model):
    client = client_for(django_user_model.objects.create_superuser("root", password=PASSWORD))
    data = admin_form(client, "/admin/events/app/add/")
    data.update({"name": "Admin App", "provider": "adjust", "platform": "ios", "new_secret": NEW_KEY})
    assert client.post("/admin/events/app/add/", data).status_code == 302
    app = App.objects.get(name="Admin App")
    client.post(f"/admin/events/app/{app.pk}/delete/", {"post": "yes"})
    assert not App.objects.exists()
    created, deleted = AuditEntry.objects.order_by("id")
    assert created.action == "app.created" and created.changes["app_key"] == "••••12ch"
    assert (deleted.action, deleted.object_id, deleted.app) == ("app.deleted", str(app.pk), None)


def test_a_users_change_and_password_in_the_admin_are_audited_without_the_password(
    client_for, admin, marketer
):
    client = client_for(admin)
    url = f"/admin/auth/user/{marketer.pk}/change/"
    data = admin_form(client, url)
    data["email"] = "mark@example.com"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    new = "an-entirely-new-passphrase-7"
    password_url = f"/admin/auth/user/{marketer.pk}/password/"
    response = client.post(password_url, {"password1": new, "password2": new, "usable_password": "true"})
    assert response.status_code == 302
    assert get_user_model().objects.get(pk=marketer.pk).check_password(new)
    actions = list(AuditEntry.objects.order_by("id").values_list("action", "changes"))
    assert actions == [
        ("user.updated", {"email": ["", "mark@example.com"], "via": "Django admin"}),
        ("user.password_set", {"via": "Django admin"}),
    ]
    assert new not in str(actions) and PASSWORD not in str(actions)
