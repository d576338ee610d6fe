"""No secrets in events: every event's JSON Schema (in code and in the lock) is walked, and a
field whose name looks like a secret fails the build. Events travel to the outbox, the
broker, other services and the admin; a password hash or a token must never be among them."""

import re
from collections.abc import Iterator
from typing import Any

import pytest

from eventbus import Event, Payload
from eventbus.contracts import schema_lock
from eventbus.testing import isolated_event_registry

# Words that name a secret, matched against each word of a field name (snake or camel case).
SECRET_WORDS = {
    "password", "passwd", "pwd", "passphrase", "hash", "hashed", "digest", "salt",
    "token", "jwt", "secret", "key", "keys", "apikey", "credential", "credentials", "private",
    "signature", "otp", "session", "cookie", "pin", "cvv", "iban",
}  # fmt: skip


def field_words(name: str) -> list[str]:
    """``password_hash`` -> [password, hash]; ``apiKey`` -> [api, key]."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [w.lower() for w in re.split(r"[\W_]+", spaced) if w]


def looks_secret(name: str) -> bool:
    words = field_words(name)
    joined = "".join(words)
    return bool(SECRET_WORDS.intersection(words)) or any(
        word in joined for word in ("password", "secret", "token", "apikey")
    )


def field_paths(schema: dict[str, Any]) -> Iterator[str]:
    """Every property name in the schema, at any depth (nested objects, arrays, $defs,
    anyOf/oneOf/allOf), as a dotted path from the root or from its definition."""
    stack: list[tuple[str, Any]] = [("", schema)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, list):
            stack.extend((path, item) for item in node)
            continue
        if not isinstance(node, dict):
            continue
        for name, child in (node.get("properties") or {}).items():
            child_path = f"{path}.{name}" if path else name
            yield child_path
            stack.append((child_path, child))
        for definition, child in (node.get("$defs") or {}).items():
            stack.append((f"$defs.{definition}", child))
        for keyword in ("items", "additionalProperties", "anyOf", "oneOf", "allOf"):
            if keyword in node:
                stack.append((f"{path}[]" if keyword == "items" else path, node[keyword]))


def secret_looking_fields(events: dict[Any, schema_lock.LockedEvent]) -> list[str]:
    return sorted(
        f"{e.name} v{e.version}: {path}"
        for e in events.values()
        for path in field_paths(e.schema)
        if looks_secret(path.rsplit(".", 1)[-1].removesuffix("[]"))
    )


def test_no_registered_event_carries_a_secret_looking_field():
    events = schema_lock.from_code()
    assert len(events) >= 7  # the project's events are all there
    assert secret_looking_fields(events) == []


def test_no_locked_event_version_carries_a_secret_looking_field():
    locked = schema_lock.load(schema_lock.default_path())
    assert locked  # every version ever published, old ones included
    assert secret_looking_fields(locked) == []


def test_a_planted_event_with_secrets_is_caught():
    # given an event with secrets at the top level and inside a list of payloads, beside
    # innocent names (one only contains a secret word's letters)
    with isolated_event_registry():

        class Credentials(Payload):
            apiKey: str  # camel case on purpose
            monkey: str

        class PlantedLeak(Event):
            event_name = "planted.leak_happened"
            event_version = 1

            user_id: int
            password_hash: str
            keys: list[Credentials]
            refresh_token: str | None = None

        # when the same check runs over every registered event, the planted one included
        found = secret_looking_fields(schema_lock.from_code())

    # then exactly the secret-looking fields are named
    assert found == [
        "planted.leak_happened v1: $defs.Credentials.apiKey",
        "planted.leak_happened v1: keys",
        "planted.leak_happened v1: password_hash",
        "planted.leak_happened v1: refresh_token",
    ]


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("password", True),
        ("new_password", True),
        ("passwordHash", True),
        ("api_key", True),
        ("private_key_pem", True),
        ("access_token", True),
        ("client_secret", True),
        ("username", False),
        ("email", False),
        ("profile_version", False),
        ("customer_id", False),
        ("sku", False),
        ("monkey", False),
        ("keys", True),
        ("turkey", False),
    ],
)
def test_what_looks_like_a_secret(name: str, secret: bool):
    assert looks_secret(name) is secret
