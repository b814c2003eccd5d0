"""System checks reject settings that Django accepts but that would leak or misroute traffic."""

import os
import subprocess
import sys

from django.conf import settings

from events.checks import check_mmp_base_urls, check_secrets_key, check_timeouts_and_backoff


def ids(problems) -> list[str]:
    return [p.id for p in problems]


def test_the_default_base_urls_pass(settings):
    settings.ADJUST_BASE_URL = "https://s2s.adjust.com"
    settings.TENJIN_BASE_URL = "https://track.tenjin.com"
    assert check_mmp_base_urls(None) == []


def test_plain_http_to_an_mmp_is_refused_outside_debug(settings):
    settings.DEBUG = False
    settings.ADJUST_BASE_URL = "http://s2s.adjust.com"
    assert ids(check_mmp_base_urls(None)) == ["events.E003"]


def test_plain_http_to_the_own_emulator_is_allowed(settings):
    settings.DEBUG = False
    settings.EMULATOR_ENABLED = True
    settings.ADJUST_BASE_URL = "http://127.0.0.1:8000/emulator/adjust"
    settings.TENJIN_BASE_URL = "http://127.0.0.1:8000/emulator/tenjin"
    assert check_mmp_base_urls(None) == []


def test_pointing_at_the_emulator_while_it_is_off_is_an_error(settings):
    settings.EMULATOR_ENABLED = False
    settings.DEBUG = True
    settings.ADJUST_BASE_URL = "http://127.0.0.1:8000/emulator/adjust"
    assert ids(check_mmp_base_urls(None)) == ["events.E004"]


def test_a_base_url_without_a_host_or_with_a_query_is_an_error(settings):
    settings.ADJUST_BASE_URL = "s2s.adjust.com"
    settings.TENJIN_BASE_URL = "https://track.tenjin.com/?x=1"
    assert ids(check_mmp_base_urls(None)) == ["events.E001", "events.E002"]


def test_a_malformed_secrets_key_is_an_error(settings):
    settings.SECRETS_KEYS = ["nope"]
    assert ids(check_secrets_key(None)) == ["events.E005"]


def test_negative_timeouts_and_backoff_are_errors(settings):
    settings.HTTP_READ_TIMEOUT = 0
    settings.SEND_BACKOFF = [10, -1]
    settings.SEND_BACKOFF_JITTER = 1.5
    assert ids(check_timeouts_and_backoff(None)) == ["events.E006", "events.E007", "events.E008"]


def run_check(env_overrides: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "SECRETS_KEY", "DEBUG")}
    env["DEBUG"] = "false"  # wins over a developer's .env
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_secret_key_is_required_outside_debug():
    result = run_check({"SECRETS_KEY": "bXlxsBLIH36pIUPZ6tYrF7b7mR0pV8wKc2XqHq5LQmA="})
    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr


def test_secrets_key_is_required_outside_debug():
    result = run_check({"SECRET_KEY": "x" * 50})
    assert result.returncode != 0
    assert "Set the SECRETS_KEY environment variable" in result.stderr


def test_the_appsflyer_and_singular_base_urls_are_checked_too(settings):
    settings.DEBUG = False
    settings.APPSFLYER_BASE_URL = "http://api3.appsflyer.com"
    settings.SINGULAR_BASE_URL = "https://s2s.singular.net?a=key"
    assert sorted(ids(check_mmp_base_urls(None))) == ["events.E002", "events.E003"]


def test_an_sqlite_too_old_for_the_send_engines_statements_is_named():
    from events.checks import sqlite_version_problems

    assert sqlite_version_problems((3, 40, 1)) == []
    (problem,) = sqlite_version_problems((3, 34, 1))
    assert problem.id == "events.E009"
    assert "SQLite 3.34.1 is too old" in problem.msg
