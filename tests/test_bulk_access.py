"""CSV bulk sends and who may use them: marketers and admins do; viewers, users without a role and
anonymous visitors do not; changes take POST only."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from events.models import BulkSend
from tests.bulk_helpers import *  # noqa: F403 (the autouse fixture media)
from tests.bulk_helpers import State, many_rows

pytestmark = pytest.mark.django_db(transaction=True)


# --- Access --------------------------------------------------------------------------------------------


def bulk_urls(bulk: BulkSend) -> dict[str, list[str]]:
    return {
        "get": [
            reverse("bulk"),
            reverse("bulk_detail", args=[bulk.pk]),
            reverse("bulk_progress", args=[bulk.pk]),
            reverse("bulk_results", args=[bulk.pk]),
            reverse("bulk_template", args=[bulk.app.pk]),
        ],
        "post": [
            reverse("bulk_upload"),
            reverse("bulk_start", args=[bulk.pk]),
            reverse("bulk_cancel", args=[bulk.pk]),
        ],
    }


@pytest.fixture
def a_bulk(adjust_app, admin, media):
    bulk = BulkSend(app=adjust_app, created_by=admin, filename="a.csv", state=State.QUEUED)
    bulk.file.save("a.csv", SimpleUploadedFile("a.csv", many_rows(1).encode()), save=True)
    return bulk


@pytest.mark.parametrize("role", ["viewer", "outsider"])
def test_viewers_and_users_without_a_role_get_403(request, client_for, a_bulk, role):
    client = client_for(request.getfixturevalue(role))
    urls = bulk_urls(a_bulk)
    for url in urls["get"]:
        assert client.get(url).status_code == 403, url
    for url in urls["post"]:
        assert client.post(url).status_code == 403, url


def test_an_anonymous_visitor_is_sent_to_log_in(client, a_bulk):
    urls = bulk_urls(a_bulk)
    for url in urls["get"] + urls["post"]:
        response = client.post(url) if url in urls["post"] else client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url


def test_changes_take_post_only(client_for, admin, a_bulk):
    client = client_for(admin)
    for url in bulk_urls(a_bulk)["post"]:
        assert client.get(url).status_code == 405, url


def test_marketers_and_admins_see_every_bulk_send(client_for, marketer, a_bulk):
    page = client_for(marketer).get(reverse("bulk")).content.decode()
    assert "a.csv" in page and "alice-admin" in page
    assert client_for(marketer).get(reverse("bulk_detail", args=[a_bulk.pk])).status_code == 200


def test_the_nav_links_bulk_send_for_marketers_only(client, marketer, viewer):
    client.force_login(marketer)
    assert reverse("bulk") in client.get(reverse("overview")).content.decode()
    client.force_login(viewer)
    assert reverse("bulk") not in client.get(reverse("overview")).content.decode()
