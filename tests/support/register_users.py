"""Registrations in bulk through accounts' services, run inside a service's process.

    python -m tests.support.register_users PREFIX COUNT [--pause SECONDS]

registers ``<PREFIX>0`` ... ``<PREFIX><COUNT-1>``, each in a transaction of its own that
publishes ``accounts.user_registered``, under whatever Django settings the environment
names. ``register_many`` runs it in a split deployment's accounts service.
"""

import argparse
import time

from tools.split import SplitDeployment

FAST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"


def register_many(deployment: SplitDeployment, prefix: str, count: int, pause: float = 0.0) -> None:
    """``count`` registrations through the deployment's accounts service, ``pause`` seconds
    apart; returns when the last one has committed."""
    deployment.run("accounts", "-m", __name__, prefix, str(count), f"--pause={pause}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefix")
    parser.add_argument("count", type=int)
    parser.add_argument("--pause", type=float, default=0.0, help="seconds between two")
    args = parser.parse_args()

    import django

    django.setup()
    from django.test import override_settings

    from accounts.services import user_register

    # A fast hasher: the point is the events they publish, not 200 password hashes.
    with override_settings(PASSWORD_HASHERS=[FAST_HASHER]):
        for i in range(args.count):
            username = f"{args.prefix}{i}"
            user_register(
                username=username,
                email=f"{username}@example.com",
                password="correct-horse-battery-42",
            )
            time.sleep(args.pause)


if __name__ == "__main__":
    main()
