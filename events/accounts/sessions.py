"""Sessions of a user, to sign them out everywhere (sessions live in the database: Django's default)."""

from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.models import Session
from django.utils import timezone


def end_sessions(user, *, keep: str | None = None) -> int:
    """Delete every live session of this user (but `keep`, a session key); returns how many ended.

    Each session is decoded to find its user: a team's few hundred rows at most, read only when an
    admin asks.
    """
    ended = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        data = session.get_decoded()
        if data.get(SESSION_KEY) == str(user.pk) and HASH_SESSION_KEY in data and session.session_key != keep:
            ended.append(session.session_key)
    Session.objects.filter(session_key__in=ended).delete()
    return len(ended)
