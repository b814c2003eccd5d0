"""The access matrix: every URL of the site x (anonymous, viewer, marketer, admin) -> the status
it must answer. URLs come from the resolver (tests/url_walk.py), so a new page fails here until
its row is added: TO COMPLETE by whoever adds a page, with the statuses its roles must get.

GET is checked for all four roles. For POST, the refusals are checked (anonymous, viewer,
marketer); a role allowed to post has None, and the view's own tests prove what posting does.
The Django admin and django-rq pages are in ADMIN: staff only.

Roles (events/roles.py): viewer reads the log; marketer also sends, resends and uploads, and reads
apps with their event tokens; admin also manages apps, tokens, users and API keys. 302 for anonymous is the login page; 405 is a GET
on a POST-only view (the method is refused before the role is looked at).
"""

import pytest
from django.test import Client

from tests import url_walk
from tests.test_secret_pages import full_run  # noqa: F401 - the objects every page needs

pytestmark = pytest.mark.django_db(transaction=True)

ROLES = ("anonymous", "viewer", "marketer", "admin")
# Public by design: the login page, the health check, the MMP emulator, the API (keys, not sessions).
GET = {
    "login": (200, 302, 302, 302),
    "logout": (302, 405, 405, 405),
    "password_change": (302, 200, 200, 200),
    "time_zone": (302, 200, 200, 200),
    "health": (200, 200, 200, 200),
    # Probes answer anyone, without a session: no worker runs during this walk, so not ready.
    "ready": (503, 503, 503, 503),
    # A token or an allowed address, never a session: neither is set in the tests, so refused.
    "metrics": (403, 403, 403, 403),
    "emulator:adjust_event": (400, 400, 400, 400),
    "emulator:adjust_gdpr_forget_device": (405, 405, 405, 405),
    "emulator:tenjin_event": (401, 401, 401, 401),
    "emulator:tenjin_purchase": (401, 401, 401, 401),
    "emulator:appsflyer_event": (405, 405, 405, 405),
    # Singular answers HTTP 200 to everything, refusals ("missing argument: a") included.
    "emulator:singular_event_v1": (200, 200, 200, 200),
    "emulator:singular_event_v2": (200, 200, 200, 200),
    "emulator:singular_launch": (200, 200, 200, 200),
    "emulator:singular_launch_v2": (200, 200, 200, 200),
    "api-v1:openapi-json": (200, 200, 200, 200),
    "api-v1:post_events": (405, 405, 405, 405),
    "api-v1:get_delivery": (401, 401, 401, 401),
    "api-v1:api-root": (404, 404, 404, 404),
    # Reading the log: every role.
    "overview": (302, 200, 200, 200),
    "log": (302, 200, 200, 200),
    "log_export": (302, 200, 200, 200),
    "saved_view_save": (302, 405, 405, 405),
    "saved_view_delete": (302, 405, 405, 405),
    "delivery": (302, 200, 200, 200),
    "delivery_status": (302, 200, 200, 200),
    "attempt_response": (302, 200, 200, 200),
    "compare": (302, 200, 200, 200),
    # Sending: marketers and admins.
    "send": (302, 403, 200, 200),
    "send_preview": (302, 405, 405, 405),
    "delivery_resend": (302, 405, 405, 405),
    "delivery_retry": (302, 405, 405, 405),
    "delivery_clone": (302, 403, 200, 200),
    "bulk": (302, 403, 200, 200),
    "bulk_upload": (302, 405, 405, 405),
    "bulk_template": (302, 403, 200, 200),
    "bulk_detail": (302, 403, 200, 200),
    "bulk_progress": (302, 403, 200, 200),
    "bulk_start": (302, 405, 405, 405),
    "bulk_cancel": (302, 405, 405, 405),
    "bulk_results": (302, 403, 404, 404),  # 404: this upload has no results yet
    "bulk_resend_preview": (302, 405, 405, 405),
    "bulk_resend": (302, 403, 200, 200),
    "bulk_resend_progress": (302, 403, 200, 200),
    "bulk_resend_start": (302, 405, 405, 405),
    # Managing: admins only.
    # Marketers read apps and their event tokens (no secrets, no changes).
    "apps": (302, 403, 200, 200),
    "app_create": (302, 403, 403, 200),
    "app_detail": (302, 403, 200, 200),
    "app_edit": (302, 403, 403, 200),
    "app_deactivate": (302, 405, 405, 405),
    "app_reactivate": (302, 405, 405, 405),
    "event_token_add": (302, 405, 405, 405),
    "event_token_import": (302, 403, 403, 200),
    "event_token_import_confirm": (302, 405, 405, 405),
    "event_token_export": (302, 403, 403, 200),
    "event_token_rename": (302, 403, 403, 200),
    "event_token_remove": (302, 405, 405, 405),
    "event_token_restore": (302, 405, 405, 405),
    "security_tokens": (302, 403, 403, 200),
    "security_token_add": (302, 405, 405, 405),
    "security_token_rotate": (302, 405, 405, 405),
    "security_token_activate": (302, 405, 405, 405),
    "security_token_deactivate": (302, 405, 405, 405),
    "users": (302, 403, 403, 200),
    "user_create": (302, 403, 403, 200),
    "user_edit": (302, 403, 403, 200),
    "user_password": (302, 403, 403, 200),
    "user_sign_out": (302, 405, 405, 405),
    "user_unlock": (302, 405, 405, 405),
    "address_unlock": (302, 405, 405, 405),
    "user_deactivate": (302, 405, 405, 405),
    "user_reactivate": (302, 405, 405, 405),
    "audit": (302, 403, 403, 200),
    "api_keys": (302, 403, 403, 200),
    "api_key_create": (302, 403, 403, 200),
    "api_key_revoke": (302, 405, 405, 405),
    # Alerts: every role reads the incidents; admins act on them, manage channels and app rules.
    "alerts": (302, 200, 200, 200),
    "incident_acknowledge": (302, 405, 405, 405),
    "incident_mute": (302, 405, 405, 405),
    "incident_unmute": (302, 405, 405, 405),
    "alert_channels": (302, 403, 403, 200),
    "alert_channel_create": (302, 403, 403, 200),
    "alert_channel_test": (302, 405, 405, 405),
    "alert_channel_delete": (302, 405, 405, 405),
    "app_alerts": (302, 403, 403, 200),
    "callback_endpoint": (302, 403, 403, 200),
    "callback_endpoint_save": (302, 405, 405, 405),
    "callback_endpoint_rotate": (302, 405, 405, 405),
    "callback_endpoint_deactivate": (302, 405, 405, 405),
    "callback_endpoint_reactivate": (302, 405, 405, 405),
}
# POST (anonymous, viewer, marketer): who is refused; None where the role may post.
POST_REFUSED = {
    "logout": (302, None, None),
    "saved_view_delete": (302, 404, 404),  # someone else's view: not found
    "send": (302, 403, None),
    "send_preview": (302, 403, None),
    "delivery_resend": (302, 403, None),
    "delivery_retry": (302, 403, None),
    "bulk_upload": (302, 403, None),
    "bulk_start": (302, 403, None),
    "bulk_cancel": (302, 403, None),
    "bulk_resend_preview": (302, 403, None),
    "bulk_resend_start": (302, 403, None),
    **{
        name: (302, 403, 403)
        for name in (
            "app_create", "app_edit", "app_deactivate", "app_reactivate", "event_token_add",
            "event_token_import", "event_token_import_confirm", "event_token_rename", "event_token_remove",
            "event_token_restore", "security_token_add", "security_token_rotate", "security_token_activate",
            "security_token_deactivate", "user_create", "user_edit", "user_password", "user_sign_out", "user_unlock", "address_unlock",
            "user_deactivate", "user_reactivate",
            "api_key_create", "api_key_revoke",
            "incident_acknowledge", "incident_mute", "incident_unmute", "alert_channel_create",
            "alert_channel_test", "alert_channel_delete", "app_alerts",
            "callback_endpoint_save", "callback_endpoint_rotate",
            "callback_endpoint_deactivate", "callback_endpoint_reactivate",
        )
    },
}  # fmt: skip
ADMIN = {
    "/admin/": (302, 302, 302, 200),
    "/admin/events/app/": (302, 302, 302, 200),
    "/admin/events/app/add/": (302, 302, 302, 200),
    "/admin/events/app/{events.App}/change/": (302, 302, 302, 200),
    "/admin/events/securitytoken/": (302, 302, 302, 404),  # edited inline on its app only
    "/admin/events/delivery/": (302, 302, 302, 200),
    "/admin/events/delivery/{events.Delivery}/change/": (302, 302, 302, 200),
    "/admin/events/attempt/": (302, 302, 302, 200),
    "/admin/events/attempt/{events.Attempt}/change/": (302, 302, 302, 200),
    "/admin/auth/user/": (302, 302, 302, 200),
    "/admin/django_rq/dashboard/": (302, 302, 302, 200),
}


@pytest.fixture
def clients(full_run, viewer, marketer, admin):  # noqa: F811
    made = {"anonymous": Client()}
    for role, user in (("viewer", viewer), ("marketer", marketer), ("admin", admin)):
        made[role] = Client()
        made[role].force_login(user)
    return made


def test_every_url_is_in_the_matrix_and_no_row_is_stale():
    names = {route.name for route in url_walk.routes()}
    missing = sorted(names - set(GET))
    assert not missing, f"new pages without a row in GET (add what each role must get): {missing}"
    assert not sorted(set(GET) - names), "rows for pages that no longer exist"
    assert set(POST_REFUSED) <= names
    assert set(ADMIN) == set(url_walk.ADMIN_PAGES)


def test_every_url_answers_each_role_as_the_matrix_says(clients):
    ids = url_walk.existing_ids()
    wrong = []
    for route in url_walk.routes():
        url = route.url(ids)
        assert url, f"{route.route}: no object to fill it with; create one in full_run (test_secret_pages)"
        for role, expected in zip(ROLES, GET[route.name], strict=True):
            got = clients[role].get(url).status_code
            if got != expected:
                wrong.append(f"GET {url} as {role}: {got}, expected {expected}")
    assert wrong == []


def test_no_role_can_post_where_the_matrix_refuses_it(clients):
    ids = url_walk.existing_ids()
    wrong = []
    for route in url_walk.routes():
        for role, expected in zip(ROLES, POST_REFUSED.get(route.name, ()), strict=False):
            if expected is None:
                continue
            got = clients[role].post(route.url(ids), {}).status_code
            if got != expected:
                wrong.append(f"POST {route.route} as {role}: {got}, expected {expected}")
    assert wrong == []


def test_the_admin_and_queue_pages_are_for_staff_only(clients):
    ids = url_walk.existing_ids()
    wrong = []
    for page, url in zip(url_walk.ADMIN_PAGES, url_walk.admin_urls(ids), strict=True):
        for role, expected in zip(ROLES, ADMIN[page], strict=True):
            got = clients[role].get(url).status_code
            if got != expected:
                wrong.append(f"GET {url} as {role}: {got}, expected {expected}")
    assert wrong == []
