"""PUBLIC CONTRACT of accounts: the events it publishes. Other modules may import this file.

Imports nothing but eventbus and the standard library. Changing a field is a new version.
"""

from eventbus import Event


class UserRegistered(Event):
    """A new account exists. ``profile_version`` starts at 1."""

    event_name = "accounts.user_registered"
    event_version = 1

    user_id: int
    username: str
    email: str
    profile_version: int


class UserLoggedIn(Event):
    """A user obtained tokens with their password."""

    event_name = "accounts.user_logged_in"
    event_version = 1

    user_id: int


class UserProfileUpdated(Event):
    """The profile changed. ``profile_version`` grows by one on every change, so a reader
    can ignore an update older than what it has already applied."""

    event_name = "accounts.user_profile_updated"
    event_version = 1

    user_id: int
    username: str
    email: str
    first_name: str
    last_name: str
    profile_version: int


class UserDeactivated(Event):
    """The account can no longer log in or place orders."""

    event_name = "accounts.user_deactivated"
    event_version = 1

    user_id: int
    reason: str
