"""AppsFlyer and Singular where the product shows an MMP besides the console: a CSV template per MMP,
the provider-neutral API item mapped onto each, export/import of their apps, the app pages."""

import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from events.api.keys import create_api_key
from events.models import App, Delivery
from tests.conftest import APPSFLYER_ID, SINGULAR_SDID

pytestmark = pytest.mark.django_db


def test_the_bulk_template_of_each_new_mmp_has_its_own_columns(
    client_for, marketer, appsflyer_app, singular_app
):
    client = client_for(marketer)
    appsflyer = client.get(reverse("bulk_template", args=[appsflyer_app.pk])).content.decode().strip()
    singular = client.get(reverse("bulk_template", args=[singular_app.pk])).content.decode().strip()
    assert appsflyer == (
        "id,event,appsflyer_id,idfa,idfv,created_at,revenue,currency,environment,ip_address,"
        "event_value,os_version,att_status,customer_user_id,app_version"
    )
    assert singular == (
        "id,event,sdid,created_at,revenue,currency,environment,ip_address,os_version,attributes,custom_user_id"
    )


def test_the_api_maps_the_neutral_event_onto_each_mmp(
    client, appsflyer_app, singular_app, redis_conn, django_capture_on_commit_callbacks
):
    _, key = create_api_key("backend", [appsflyer_app, singular_app])
    items = [
        {
            "id": "af-1", "app": appsflyer_app.name, "event": "af_purchase",
            "device_ids": {"appsflyer_id": APPSFLYER_ID}, "revenue": "4.99", "currency": "USD",
            "created_at": "2025-01-01T12:00:00Z", "fields": {"event_value": {"sku": "gems"}},
        },
        {
            "id": "sg-1", "app": singular_app.name, "event": "level_up", "device_ids": {"sdid": SINGULAR_SDID},
            "ip_address": "203.0.113.7", "revenue": "4.99", "currency": "USD",
        },
    ]  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/events", json.dumps({"events": items}), content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )  # fmt: skip
    assert response.status_code == 202, response.content
    appsflyer = Delivery.objects.get(app=appsflyer_app).params
    assert appsflyer["eventTime"] == "2025-01-01 12:00:00.000"
    assert appsflyer["eventValue"] == '{"af_revenue":"4.99","af_currency":"USD","sku":"gems"}'
    singular = Delivery.objects.get(app=singular_app).params
    assert (singular["amt"], singular["cur"], singular["is_revenue_event"]) == ("4.99", "USD", "true")


def test_export_and_import_keep_the_new_apps_and_their_api_version(
    capsys, appsflyer_app, singular_app, tmp_path
):
    singular_app.api_version = "v1"
    singular_app.save()
    call_command("export_config", "--include-secrets")
    data = json.loads(capsys.readouterr().out)
    App.objects.all().delete()
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    call_command("import_config", str(path))
    assert App.objects.get(name=singular_app.name).api_version == "v1"
    assert App.objects.get(name=appsflyer_app.name).app_key == appsflyer_app.app_key


def test_import_refuses_a_sandbox_default_for_an_mmp_without_one(capsys, tmp_path, appsflyer_app):
    call_command("export_config")
    data = json.loads(capsys.readouterr().out)
    data["apps"][0]["default_environment"] = "sandbox"
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    with pytest.raises(Exception, match="AppsFlyer has no sandbox"):
        call_command("import_config", str(path))


def test_the_app_page_calls_them_event_names_and_offers_no_security_tokens(client_for, admin, appsflyer_app):
    page = client_for(admin).get(reverse("app_detail", args=[appsflyer_app.pk])).content.decode()
    assert "<th>Event name</th>" in page and "<th>Kind</th>" not in page
    assert "S2S token" in page  # the key's name at AppsFlyer
    assert client_for(admin).get(reverse("security_tokens", args=[appsflyer_app.pk])).status_code == 404


def test_the_token_form_applies_each_mmps_name_rules(client_for, admin, singular_app):
    url = reverse("event_token_add", args=[singular_app.pk])
    response = client_for(admin).post(url, {"name": "Long", "token": "x" * 33, "kind": "event"})
    assert "at most 32" in response.context["event_token_form"].errors["token"][0]
