"""Consumer contracts of orders: accounts' events, built from the schema accounts LOCKED
(events.schema.lock.json), fed to orders' real handlers. A change accounts makes to these
events that orders cannot read fails here, on orders' side."""

import pytest
from django.db import transaction

from accounts.events import UserDeactivated, UserProfileUpdated, UserRegistered
from eventbus.testing import event_from_schema
from orders.handlers import (
    deactivate_customer,
    replicate_registered_customer,
    replicate_updated_profile,
)
from orders.models import Customer

pytestmark = pytest.mark.django_db


def test_registration_as_published_builds_the_replica():
    event = event_from_schema(UserRegistered, user_id=31, username="ada", profile_version=1)

    with transaction.atomic():
        replicate_registered_customer(event)

    replica = Customer.objects.get(customer_id=31)
    assert (replica.username, replica.email, replica.profile_version, replica.is_active) == (
        "ada",
        "someone@example.com",
        1,
        True,
    )


def test_profile_update_as_published_updates_the_replica():
    with transaction.atomic():
        replicate_registered_customer(
            event_from_schema(UserRegistered, user_id=31, username="ada", profile_version=1)
        )
    event = event_from_schema(
        UserProfileUpdated, user_id=31, email="ada@example.org", profile_version=2
    )

    with transaction.atomic():
        replicate_updated_profile(event)

    replica = Customer.objects.get(customer_id=31)
    assert (replica.email, replica.profile_version) == ("ada@example.org", 2)


def test_deactivation_as_published_deactivates_the_replica():
    event = event_from_schema(UserDeactivated, user_id=31)

    with transaction.atomic():
        deactivate_customer(event)

    assert Customer.objects.get(customer_id=31).is_active is False
