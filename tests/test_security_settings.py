"""Security settings and headers: `check --deploy` clean with production settings, secure cookies,
HSTS, a content security policy the templates keep to, CSRF on every form, and no field anywhere
that lets a user choose where a request goes."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django import forms
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib import admin as django_admin
from django.db import models
from django.test import Client
from django.urls import reverse

from tests import url_walk
from tests.conftest import PASSWORD

ROOT = Path(django_settings.BASE_DIR)
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k3y-for-the-deploy-check-" + "0123456789abcdefghijklmnopqrstuvwxyz" * 2,
    "SECRETS_KEY": "bXlxsBLIH36pIUPZ6tYrF7b7mR0pV8wKc2XqHq5LQmA=",
    "ALLOWED_HOSTS": "s2sadmin.example.com",
    "ADJUST_BASE_URL": "https://s2s.adjust.com",
    "TENJIN_BASE_URL": "https://track.tenjin.com",
    "EMULATOR_ENABLED": "false",
}
SHOWN = [
    "DEBUG", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
    "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY", "X_FRAME_OPTIONS", "CONTENT_SECURITY_POLICY", "DEFAULT_EXCEPTION_REPORTER_FILTER",
]  # fmt: skip


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    # Only what a server would have: none of the test run's variables.
    base = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "REDIS_URL": "redis://127.0.0.1:6379/0"}
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def settings_under(env: dict[str, str]) -> dict:
    code = f"from django.conf import settings as s; import json; print(json.dumps({{n: getattr(s, n) for n in {SHOWN!r}}}))"
    run = run_manage("shell", "--no-imports", "-c", code, env=env)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_check_deploy_is_clean_with_production_settings():
    run = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "System check identified no issues (0 silenced)." in run.stdout


def test_production_settings_redirect_to_https_and_keep_cookies_secure():
    production = settings_under(PRODUCTION)
    assert (
        production["SECURE_SSL_REDIRECT"]
        and production["SESSION_COOKIE_SECURE"]
        and production["CSRF_COOKIE_SECURE"]
    )
    assert (
        production["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600 and production["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    )
    assert production["X_FRAME_OPTIONS"] == "DENY"
    assert production["SECURE_REFERRER_POLICY"] == "same-origin" and production["SECURE_CONTENT_TYPE_NOSNIFF"]
    assert "default-src 'self'" in production["CONTENT_SECURITY_POLICY"]
    assert "unsafe-inline" not in production["CONTENT_SECURITY_POLICY"]
    assert (
        production["DEFAULT_EXCEPTION_REPORTER_FILTER"]
        == "events.error_reports.SecretsExceptionReporterFilter"
    )


def test_in_debug_there_is_no_https_redirect_hsts_or_policy():
    debug = settings_under({"DEBUG": "true"})
    assert not debug["SECURE_SSL_REDIRECT"] and not debug["SESSION_COOKIE_SECURE"]
    assert debug["SECURE_HSTS_SECONDS"] == 0 and debug["CONTENT_SECURITY_POLICY"] == ""


@pytest.mark.django_db
def test_every_answer_carries_the_security_headers(client):
    response = client.get(reverse("login"), secure=True)
    assert response["Content-Security-Policy"] == django_settings.CONTENT_SECURITY_POLICY
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


SCRIPTS = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I), "an inline event handler (onclick=...)"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]
STYLES = [
    (re.compile(r"<style\b", re.I), "a <style> block"),
    (re.compile(r"<[a-z][a-z0-9]*\s[^>{]*\bstyle\s*=", re.I), "a style= attribute"),
]


def inline(patterns) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}: {what}"
        for path in (ROOT / "templates").rglob("*.html")
        for pattern, what in patterns
        if pattern.search(path.read_text())
    ]


def test_no_template_has_an_inline_script_which_the_policy_would_block():
    assert inline(SCRIPTS) == [], (
        "move it to a file under static/js/ (Content-Security-Policy: script-src 'self')"
    )


def test_no_template_has_an_inline_style_which_the_policy_would_ignore():
    # style-src 'self' drops style= attributes: set sizes from a class, a <progress>/<meter>, or
    # from a data- attribute in a static script (element.style is allowed).
    assert inline(STYLES) == [], "move it to static/css/, or set it from a static script"


@pytest.mark.django_db
def test_a_post_without_the_csrf_token_is_refused_on_every_form(admin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    exempt = ("emulator:", "api-v1:")  # the emulator plays MMP endpoints; the API takes keys, not cookies
    refused = {}
    for route in url_walk.routes():
        url = route.url(url_walk.existing_ids())
        if url is None or route.name.startswith(exempt) or route.name == "health":
            continue
        refused[route.name] = client.post(url, {"name": "x"}).status_code
    assert refused and all(status == 403 for status in refused.values()), refused
    assert (
        Client(enforce_csrf_checks=True)
        .post(reverse("login"), {"username": "a", "password": "b"})
        .status_code
        == 403
    )


URL_WORDS = re.compile(r"url|host|endpoint|domain|webhook|callback_uri|server", re.I)
# Written by s2sadmin itself, never through a form: what an attempt (or a callback's try) was sent
# to, and which endpoint a callback belongs to.
RECORDS = {
    ("events", "attempt", "url"),
    ("events", "callbackattempt", "url"),
    ("events", "callback", "endpoint"),
}
# The one destination a user sets on purpose (issue 11: result callbacks): an admin's URL, checked
# by events.callbacks.destinations when saved and before every try (see the test below).
CHECKED_DESTINATIONS = {("events", "callbackendpoint", "url")}


def test_no_model_field_holds_a_destination_a_user_could_set():
    fields = [
        (model._meta.app_label, model._meta.model_name, field.name)
        for model in apps.get_app_config("events").get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.Field)
        and (isinstance(field, models.URLField) or URL_WORDS.search(field.name))
    ]
    assert set(fields) <= RECORDS | CHECKED_DESTINATIONS, fields


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:6379/",
        "https://10.0.0.5/x",
        "http://[::1]/x",
        "https://user:pass@example.com/x",
        "ftp://example.com/x",
    ],
)
def test_the_user_set_destination_refuses_private_and_odd_urls(url, settings):
    from events.callbacks.forms import CallbackEndpointForm

    settings.CALLBACK_ALLOW_PRIVATE_ADDRESSES = False
    form = CallbackEndpointForm({"url": url})
    assert not form.is_valid()
    assert form.errors["url"]


def form_classes() -> list[type[forms.BaseForm]]:
    import importlib
    import pkgutil

    import events.forms

    found = []
    for module in pkgutil.iter_modules(events.forms.__path__):
        namespace = vars(importlib.import_module(f"events.forms.{module.name}"))
        found += [v for v in namespace.values() if isinstance(v, type) and issubclass(v, forms.BaseForm)]
    return found


@pytest.mark.django_db
def test_no_form_or_admin_page_lets_a_user_choose_where_a_request_goes(rf, admin):
    request = rf.get("/")
    request.user = admin
    admin_forms = [
        model_admin.get_form(request)
        for model_admin in django_admin.site._registry.values()
        if model_admin.has_add_permission(request) or model_admin.has_change_permission(request)
    ]
    offenders = []
    for form_class in [*form_classes(), *admin_forms]:
        for name, field in getattr(form_class, "base_fields", {}).items():
            if isinstance(field, forms.URLField) or URL_WORDS.search(name):
                offenders.append(f"{form_class.__module__}.{form_class.__name__}.{name}")
    assert offenders == []


@pytest.mark.django_db
def test_with_the_https_redirect_production_runs_every_door_answers_behind_its_proxy(
    client, settings, viewer
):
    # Off under pytest by default (SERVED_OVER_HTTPS); on here, as production runs.
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    for path in (reverse("login"), "/api/v1/events"):
        plain = client.post(path, data="{}", content_type="application/json")
        assert (plain.status_code, plain["Location"]) == (301, f"https://testserver{path}")
    # Behind the TLS proxy: the sign-in form, its throttle and the API answer as they do in tests.
    signed_in = client.post(
        reverse("login"), {"username": viewer.username, "password": PASSWORD}, HTTP_X_FORWARDED_PROTO="https"
    )
    assert signed_in.status_code == 302
    api = client.post(
        "/api/v1/events", data="{}", content_type="application/json", HTTP_X_FORWARDED_PROTO="https"
    )
    assert (api.status_code, api["Content-Type"]) == (401, "application/json; charset=utf-8")
