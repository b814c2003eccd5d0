"""Each MMP's rules for an event token (Adjust) or event name (Tenjin), asked of the provider
wherever a token comes in: the app page's form, the CSV import and import_config."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from events.forms.tokens import event_token_problem
from events.models import App, EventToken, Provider
from events.providers import PROVIDERS

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("provider", "token", "kind", "problem"),
    [
        (Provider.ADJUST, "f0ob4r", "event", None),
        (Provider.ADJUST, "abc123kuvada7", "event", None),  # length is not held against it
        (Provider.ADJUST, "not a token!", "event", "letters and digits only"),
        (Provider.ADJUST, "Purchase-iOS", "event", "letters and digits only"),
        (Provider.ADJUST, "f0ob4r", "purchase", "Only Tenjin apps have purchase events"),
        (Provider.TENJIN, "level up", "event", None),  # a name, spaces and all
        (Provider.TENJIN, " level_up", "event", "spaces at its ends"),
        (Provider.TENJIN, "level\tup", "event", "invisible characters"),
        (Provider.TENJIN, "x" * 80, "event", "80 characters or more"),
        (Provider.TENJIN, "purchase", "purchase", None),
    ],
)
def test_each_provider_says_which_tokens_it_takes(provider, token, kind, problem):
    answer = event_token_problem(App(provider=provider), token, kind)
    assert (answer is None) if problem is None else (problem in answer)


def test_every_provider_refuses_a_token_with_a_line_break():
    for name in PROVIDERS:
        assert event_token_problem(App(provider=name), "f0o\nb4r", "event"), name


def test_the_app_page_refuses_a_badly_shaped_adjust_token(client_for, admin, adjust_app):
    url = reverse("event_token_add", args=[adjust_app.pk])
    response = client_for(admin).post(url, {"name": "Bad", "token": "not a token!", "kind": "event"})
    assert "letters and digits only" in response.context["event_token_form"].errors["token"][0]
    assert not EventToken.objects.filter(token="not a token!").exists()


def test_the_csv_import_refuses_a_badly_shaped_adjust_token(client_for, admin, adjust_app):
    upload = SimpleUploadedFile("tokens.csv", b"Good,g00d01\nBad,not a token!\n", content_type="text/csv")
    url = reverse("event_token_import", args=[adjust_app.pk])
    report = client_for(admin).post(url, {"file": upload}).context["report"]
    assert [r.token for r in report.good] == ["g00d01"]
    assert report.problems[0][0] == 2 and "letters and digits only" in report.problems[0][1]


def test_import_config_refuses_a_badly_shaped_adjust_token(tmp_path, adjust_app):
    entry = {
        "name": adjust_app.name, "provider": "adjust", "platform": "ios",
        "event_tokens": [{"name": "Bad", "token": "not a token!"}],
    }  # fmt: skip
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"version": 1, "apps": [entry]}))
    with pytest.raises(CommandError) as raised:
        call_command("import_config", str(path))
    assert "'not a token!': An Adjust event token is letters and digits only" in str(raised.value)
    assert not EventToken.objects.filter(token="not a token!").exists()
