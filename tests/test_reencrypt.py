"""Rotating SECRETS_KEY: `reencrypt_secrets` moves every stored secret to the first key, in one
transaction, and refuses (changing nothing) when a value cannot be decrypted."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from events.models import App, SecurityToken
from tests.conftest import ADJUST_APP_TOKEN, ADJUST_SECURITY_TOKEN, TENJIN_SDK_KEY

pytestmark = pytest.mark.django_db

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def stored(table: str, column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "{column}" FROM "{table}" ORDER BY id')  # noqa: S608 - fixed names
        return [row[0] for row in cursor.fetchall()]


def readable_with(key: str, tokens: list[str]) -> bool:
    return all(Fernet(key).decrypt(token.encode()) for token in tokens)


@pytest.fixture
def secrets_under_the_old_key(settings, adjust_app, tenjin_app):
    settings.SECRETS_KEYS = [OLD_KEY]
    for app in App.objects.all():
        app.app_key = ADJUST_APP_TOKEN if app.provider == "adjust" else TENJIN_SDK_KEY
        app.save()
    SecurityToken.objects.create(app=adjust_app, label="primary", value=ADJUST_SECURITY_TOKEN)
    settings.SECRETS_KEYS = [NEW_KEY, OLD_KEY]  # the new key first, the old one still decrypting
    return settings


def test_it_re_encrypts_every_app_key_and_security_token_under_the_first_key(
    secrets_under_the_old_key, capsys
):
    call_command("reencrypt_secrets")
    assert capsys.readouterr().out.strip() == (
        "Re-encrypted 2 app keys and 1 security tokens under the first SECRETS_KEY."
    )
    assert readable_with(NEW_KEY, stored("events_app", "app_key"))
    assert readable_with(NEW_KEY, stored("events_securitytoken", "value"))
    secrets_under_the_old_key.SECRETS_KEYS = [NEW_KEY]  # the old key can go now
    assert sorted(
        App.objects.get(pk=pk).app_key for pk in App.objects.values_list("pk", flat=True)
    ) == sorted([ADJUST_APP_TOKEN, TENJIN_SDK_KEY])
    assert SecurityToken.objects.get().value == ADJUST_SECURITY_TOKEN


def test_a_dry_run_checks_everything_and_writes_nothing(secrets_under_the_old_key, capsys):
    before = stored("events_app", "app_key")
    call_command("reencrypt_secrets", "--dry-run")
    assert "Would re-encrypt 2 app keys and 1 security tokens" in capsys.readouterr().out
    assert stored("events_app", "app_key") == before


def test_a_value_no_key_can_decrypt_stops_it_with_nothing_changed(secrets_under_the_old_key, adjust_app):
    secrets_under_the_old_key.SECRETS_KEYS = [NEW_KEY]  # the old key dropped too early
    before = stored("events_app", "app_key") + stored("events_securitytoken", "value")
    with pytest.raises(CommandError) as refused:
        call_command("reencrypt_secrets")
    message = str(refused.value)
    assert message.startswith("Nothing was re-encrypted: 3 stored value(s) cannot be decrypted")
    assert f"app 'Demo Adjust iOS' (id {adjust_app.pk}): its app token / SDK key" in message
    assert "security token 'primary' of app 'Demo Adjust iOS'" in message
    assert stored("events_app", "app_key") + stored("events_securitytoken", "value") == before


def test_its_message_never_contains_a_secret(secrets_under_the_old_key):
    secrets_under_the_old_key.SECRETS_KEYS = [NEW_KEY]
    with pytest.raises(CommandError) as refused:
        call_command("reencrypt_secrets")
    for secret in (ADJUST_APP_TOKEN, ADJUST_SECURITY_TOKEN, TENJIN_SDK_KEY, OLD_KEY, NEW_KEY):
        assert secret not in str(refused.value)
