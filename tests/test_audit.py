"""The audit trail: one helper records every change with secrets masked; admins read it, newest first."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from events import audit
from events.models import AuditEntry
from tests.conftest import ADJUST_APP_TOKEN, ADJUST_SECURITY_TOKEN

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["viewer", "marketer", "outsider"])
def test_only_admins_read_the_audit_trail(request, client_for, role):
    assert client_for(request.getfixturevalue(role)).get(reverse("audit")).status_code == 403


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    assert client.get(reverse("audit"))["Location"].startswith(reverse("login"))


def test_the_audit_trail_is_read_only(client_for, admin):
    assert client_for(admin).post(reverse("audit")).status_code == 405


def test_record_change_masks_secret_fields_whatever_the_caller_passes(admin, adjust_security_token):
    entry = audit.record_change(
        admin,
        "security_token.rotated",
        adjust_security_token,
        {
            "value": [ADJUST_SECURITY_TOKEN, "n3wt0k3nn3wt0k3n"],
            "app_key": ADJUST_APP_TOKEN,
            "label": ["a", "b"],
        },
    )
    entry.refresh_from_db()
    assert entry.changes == {"value": ["••••b5oe", "••••0k3n"], "app_key": "••••b54d", "label": ["a", "b"]}
    assert entry.object_type == "security_token" and entry.app == adjust_security_token.app
    assert entry.actor_name == "alice-admin" and entry.object_repr == "primary (••••b5oe)"
    assert ADJUST_SECURITY_TOKEN not in str(entry.changes) and ADJUST_APP_TOKEN not in str(entry.changes)


def test_describe_reads_like_a_sentence():
    assert audit.describe(
        {
            "app_key": ["••••b54d", "••••9f3a"],
            "bundle_id": [None, "com.x"],
            "active": [True, False],
            "role": "viewer",
        }
    ) == [
        "app key changed (••••b54d → ••••9f3a)",
        "bundle id: com.x",
        "active changed (yes → no)",
        "role: viewer",
    ]


def test_the_page_lists_entries_newest_first_and_filters_by_app(client_for, admin, adjust_app, tenjin_app):
    now = timezone.now()
    for n, app in enumerate([adjust_app, tenjin_app, adjust_app]):
        entry = audit.record_change(admin, "app.updated", app, {"name": [f"old {n}", app.name]})
        AuditEntry.objects.filter(pk=entry.pk).update(created_at=now - timedelta(minutes=10 - n))
    client = client_for(admin)
    entries = client.get(reverse("audit")).context["entries"]
    assert [e.changes["name"][0] for e in entries] == ["old 2", "old 1", "old 0"]
    filtered = client.get(reverse("audit"), {"app": adjust_app.pk})
    assert [e.changes["name"][0] for e in filtered.context["entries"]] == ["old 2", "old 0"]
    assert "name changed (old 2 → Demo Adjust iOS)" in filtered.content.decode()


def test_an_unknown_app_in_the_filter_shows_everything_not_an_error(client_for, admin, adjust_app):
    audit.record_change(admin, "app.created", adjust_app, {"name": adjust_app.name})
    for value in ("999", "abc", ""):
        response = client_for(admin).get(reverse("audit"), {"app": value})
        assert response.status_code == 200 and len(response.context["entries"]) == 1


def test_the_page_is_paginated_and_keeps_the_filter(client_for, admin, adjust_app):
    AuditEntry.objects.bulk_create(
        AuditEntry(
            actor=admin, actor_name="alice-admin", action="app.updated", object_type="app", app=adjust_app
        )
        for _ in range(120)
    )
    response = client_for(admin).get(reverse("audit"), {"app": adjust_app.pk})
    assert len(response.context["entries"]) == 50 and response.context["page"].paginator.num_pages == 3
    assert f'href="?app={adjust_app.pk}&amp;page=2"' in response.content.decode()
    last = client_for(admin).get(reverse("audit"), {"app": adjust_app.pk, "page": 3})
    assert len(last.context["entries"]) == 20
    assert client_for(admin).get(reverse("audit"), {"page": "999"}).status_code == 200


def test_stored_text_is_escaped(client_for, admin, adjust_app):
    audit.record_change(admin, "app.updated", adjust_app, {"name": ["<script>alert(1)</script>", "ok"]})
    body = client_for(admin).get(reverse("audit")).content.decode()
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;" in body


def test_a_deleted_actor_keeps_their_name(client_for, admin, marketer, adjust_app):
    audit.record_change(marketer, "app.updated", adjust_app, {"name": ["a", "b"]})
    marketer.delete()
    assert "mark-marketer" in client_for(admin).get(reverse("audit")).content.decode()
