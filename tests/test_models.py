"""Model rules that protect the log's meaning."""

import pytest

from events.engine import create_delivery
from events.models import EventToken, Source
from tests.conftest import IDFA

pytestmark = pytest.mark.django_db


def test_an_unused_event_token_is_deleted(adjust_app):
    token = adjust_app.event_tokens.get(token="2y7e81")
    assert token.delete_or_archive() == "deleted"
    assert not EventToken.objects.filter(pk=token.pk).exists()


def test_a_used_event_token_is_archived_not_deleted(adjust_app, redis_conn):
    token = adjust_app.event_tokens.get(token="f0ob4r")
    create_delivery(adjust_app, token, {"device_ids": {"idfa": IDFA}}, source=Source.CLI)
    assert token.delete_or_archive() == "archived"
    token.refresh_from_db()
    assert token.archived


def test_an_archived_event_token_cannot_be_sent(adjust_app, redis_conn):
    from events.providers import EventInvalid

    token = adjust_app.event_tokens.get(token="f0ob4r")
    create_delivery(adjust_app, token, {"device_ids": {"idfa": IDFA}}, source=Source.CLI)
    token.delete_or_archive()
    with pytest.raises(EventInvalid) as caught:
        create_delivery(adjust_app, token, {"device_ids": {"idfa": IDFA}}, source=Source.CLI)
    assert "archived" in " ".join(caught.value.errors["event_token"])


def test_the_string_forms_never_show_a_secret(adjust_app, adjust_security_token):
    assert adjust_app.app_key not in str(adjust_app) + repr(adjust_app)
    assert adjust_security_token.value not in str(adjust_security_token) + repr(adjust_security_token)
