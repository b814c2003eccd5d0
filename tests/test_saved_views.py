"""Saved views: a user saves the log's current filters under a name, finds them in the log's header,
and deletes them; each user sees and changes only their own."""

import pytest
from django.urls import reverse

from events.accounts.models import SavedView

pytestmark = pytest.mark.django_db


def test_a_user_saves_the_filters_and_finds_them_in_the_log_header(client_for, viewer, adjust_app):
    client = client_for(viewer)
    page = client.get(f"{reverse('log')}?status=failed&app={adjust_app.pk}&before=123-4").content.decode()
    assert 'name="name"' in page and '<input type="hidden" name="status" value="failed">' in page
    response = client.post(
        reverse("saved_view_save"),
        {
            "name": "  Rejected  Adjust ",
            "status": "failed",
            "app": adjust_app.pk,
            "before": "123-4",
            "x": "y",
        },
        follow=True,
    )
    view = SavedView.objects.get()
    assert (view.user, view.name) == (viewer, "Rejected Adjust")
    assert view.query == f"app={adjust_app.pk}&status=failed"  # the filters only: no paging, no stray keys
    body = response.content.decode()
    assert "Saved the view &#x27;Rejected Adjust&#x27;" in body
    assert (
        f'href="{reverse("log")}?app={adjust_app.pk}&amp;status=failed" aria-current="page">Rejected Adjust</a>'
        in body
    )


def test_saving_under_a_used_name_replaces_that_view(client_for, viewer):
    client = client_for(viewer)
    client.post(reverse("saved_view_save"), {"name": "Mine", "status": "failed"})
    client.post(reverse("saved_view_save"), {"name": "Mine", "status": "dead"})
    assert list(SavedView.objects.values_list("name", "query")) == [("Mine", "status=dead")]


def test_nothing_is_saved_without_a_name_or_a_filter(client_for, viewer):
    client = client_for(viewer)
    response = client.post(reverse("saved_view_save"), {"name": "Empty"}, follow=True)
    assert "there is nothing to save" in response.content.decode()
    client.post(reverse("saved_view_save"), {"name": " ", "status": "failed"})
    assert not SavedView.objects.exists()


def test_each_user_sees_and_deletes_only_their_own(client_for, viewer, marketer):
    theirs = SavedView.objects.create(user=marketer, name="Marketing", query="source=api")
    client = client_for(viewer)
    assert "Marketing" not in client.get(reverse("log")).content.decode()
    assert client.post(reverse("saved_view_delete", args=[theirs.pk])).status_code == 404
    mine = SavedView.objects.create(user=viewer, name="Mine", query="status=failed")
    client.post(reverse("saved_view_delete", args=[mine.pk]))
    assert list(SavedView.objects.all()) == [theirs]


def test_an_outsider_cannot_save_views(client_for, outsider):
    assert (
        client_for(outsider).post(reverse("saved_view_save"), {"name": "x", "status": "failed"}).status_code
        == 403
    )
