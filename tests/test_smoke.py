import pytest

from events.models import App


@pytest.mark.django_db
def test_it_encrypts_the_app_key_at_rest(adjust_app):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT app_key FROM events_app WHERE id = %s", [adjust_app.pk])
        (stored,) = cursor.fetchone()
    assert "4w565xzmb54d" not in stored
    assert App.objects.get(pk=adjust_app.pk).app_key == "4w565xzmb54d"


def test_redis_answers(redis_conn):
    assert redis_conn.ping()


def test_every_time_on_a_page_says_its_zone():
    from datetime import UTC, datetime

    from events.templatetags.clock import when

    moment = datetime(2026, 11, 30, 1, 10, 42, tzinfo=UTC)
    assert when(moment) == '<time datetime="2026-11-30T01:10:42+00:00">2026-11-30 01:10 UTC</time>'
    assert when(moment, "seconds").endswith(">2026-11-30 01:10:42 UTC</time>")
    assert when(None) == ""
