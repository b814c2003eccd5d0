"""A user's own things: their sessions (sign out everywhere), saved views and preferences."""

from events.accounts.sessions import end_sessions

__all__ = ["end_sessions"]
