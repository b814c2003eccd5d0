"""What the bad-input tests share: markup and SQL to feed every door, a time some days ago, and the
check that a page shows markup escaped."""

from datetime import timedelta

from django.utils import timezone

MARKUP = '<script>alert("x")</script>'
SQL = "'; DROP TABLE events_delivery; --"


def days_ago(days: float) -> str:
    return str(int((timezone.now() - timedelta(days=days)).timestamp()))


def assert_markup_escaped(page: str, given) -> None:
    """Where the input carried markup, the page shows it escaped and never as markup."""
    if any(MARKUP in str(value) for value in given):
        assert MARKUP not in page
        assert "&lt;script&gt;" in page
