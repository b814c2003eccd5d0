"""Secrets: encrypted in the database, masked in every form they could be written in."""

import base64
from urllib.parse import quote

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from events.models import App, SecurityToken
from events.secrets import Masker, decrypt, encrypt, fernet, mask
from tests.conftest import ADJUST_APP_TOKEN, ADJUST_SECURITY_TOKEN, TENJIN_SDK_KEY


def raw_column(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_the_app_token_is_not_readable_in_the_database(adjust_app):
    stored = raw_column("events_app", "app_key", adjust_app.pk)
    assert ADJUST_APP_TOKEN not in stored
    assert decrypt(stored) == ADJUST_APP_TOKEN


def test_the_sdk_key_is_not_readable_in_the_database(tenjin_app):
    assert TENJIN_SDK_KEY not in raw_column("events_app", "app_key", tenjin_app.pk)
    assert App.objects.get(pk=tenjin_app.pk).app_key == TENJIN_SDK_KEY


def test_the_security_token_is_not_readable_in_the_database(adjust_security_token):
    stored = raw_column("events_securitytoken", "value", adjust_security_token.pk)
    assert ADJUST_SECURITY_TOKEN not in stored
    assert SecurityToken.objects.get(pk=adjust_security_token.pk).value == ADJUST_SECURITY_TOKEN


def test_only_the_last_four_characters_are_kept_in_clear(adjust_app, adjust_security_token):
    assert adjust_app.app_key_last4 == "b54d"
    assert adjust_security_token.masked == "••••b5oe"
    assert ADJUST_SECURITY_TOKEN not in str(adjust_security_token)
    assert ADJUST_APP_TOKEN not in str(adjust_app)


def test_mask_hides_all_but_four_characters():
    assert mask("v8s5opi0zs45607l8h8c48wak2vxb5oe") == "••••b5oe"
    assert mask("short") == "••••"


def test_the_masker_hides_raw_url_encoded_and_basic_auth_forms():
    secret = "ab+cd/ef=gh12345"
    masker = Masker([secret])
    basic = base64.b64encode(f"{secret}:".encode()).decode()
    text = f"raw {secret} url {quote(secret, safe='')} basic Basic {basic}"
    masked = masker.text(text)
    assert secret not in masked
    assert quote(secret, safe="") not in masked
    assert basic not in masked
    assert masked.count("••••2345") == 3


def test_the_masker_leaves_text_without_secrets_alone():
    assert Masker([ADJUST_APP_TOKEN]).text("nothing to hide") == "nothing to hide"
    assert Masker([]).headers({"A": "b"}) == {"A": "b"}


def test_a_second_key_still_decrypts_after_rotation(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.SECRETS_KEYS = [old]
    token = encrypt("value")
    settings.SECRETS_KEYS = [new, old]
    assert decrypt(token) == "value"
    assert fernet().decrypt(encrypt("v2").encode()) == b"v2"


def test_a_wrong_key_fails_loudly_and_says_why(settings):
    settings.SECRETS_KEYS = [Fernet.generate_key().decode()]
    token = encrypt("value")
    settings.SECRETS_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted with SECRETS_KEY"):
        decrypt(token)


def test_a_malformed_key_is_reported_as_configuration(settings):
    settings.SECRETS_KEYS = ["not-a-key"]
    with pytest.raises(ImproperlyConfigured, match="Fernet keys"):
        encrypt("value")


def test_secrets_are_decrypted_only_when_read(adjust_app, settings):
    settings.SECRETS_KEYS = [Fernet.generate_key().decode()]
    app = App.objects.get(pk=adjust_app.pk)  # loading and listing never decrypt
    assert app.name == "Demo Adjust iOS"
    assert app.app_key_last4 == "b54d"
    with pytest.raises(ImproperlyConfigured):
        app.app_key  # noqa: B018
