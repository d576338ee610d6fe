"""orders' handlers of account events: the customer replica and deactivation."""

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import transaction

from accounts.events import UserDeactivated, UserProfileUpdated, UserRegistered
from eventbus import Event, publish
from eventbus.models import Delivery
from orders.events import OrderCancelled
from orders.handlers import (
    deactivate_customer,
    replicate_registered_customer,
    replicate_updated_profile,
)
from orders.models import Customer, Order, Product
from orders.services import OrderLineIn, order_mark_paid, order_mark_shipped, order_place
from orders.tests.helpers import CUSTOMER_ID, OTHER_CUSTOMER_ID

pytestmark = pytest.mark.django_db


def registered(version: int = 1, username: str = "ada") -> UserRegistered:
    return UserRegistered(
        user_id=CUSTOMER_ID,
        username=username,
        email=f"{username}@example.com",
        profile_version=version,
    )


def updated(version: int, username: str) -> UserProfileUpdated:
    return UserProfileUpdated(
        user_id=CUSTOMER_ID,
        username=username,
        email=f"{username}@example.com",
        first_name="Ada",
        last_name="Lovelace",
        profile_version=version,
    )


def replica() -> tuple[int, str, str, bool, int]:
    c = Customer.objects.get(pk=CUSTOMER_ID)
    return (c.customer_id, c.username, c.email, c.is_active, c.profile_version)


def handle[E: Event](handler: Callable[[E], None], event: E) -> None:
    """Run a handler the way the bus does: inside its own transaction."""
    with transaction.atomic():
        handler(event)


def test_user_registered_creates_the_replica():
    # given no replica
    # when the registration arrives
    handle(replicate_registered_customer, registered())

    # then orders knows the customer, active, at version 1
    assert replica() == (CUSTOMER_ID, "ada", "ada@example.com", True, 1)


def test_replicating_a_profile_is_one_statement_new_or_known(django_assert_num_queries):
    """One upsert inside the bus's transaction, no savepoints: a registration crossing the
    broker costs the consumer one round trip here."""
    with transaction.atomic():
        with django_assert_num_queries(1):
            replicate_registered_customer(registered())
        with django_assert_num_queries(1):
            replicate_updated_profile(updated(2, "ada2"))

    assert replica() == (CUSTOMER_ID, "ada2", "ada2@example.com", True, 2)
    assert Customer.objects.get(pk=CUSTOMER_ID).updated_at is not None


def test_user_registered_twice_is_idempotent():
    # given a replica from the registration
    handle(replicate_registered_customer, registered())

    # when the same event is delivered again
    handle(replicate_registered_customer, registered())

    # then there is still one unchanged replica
    assert Customer.objects.count() == 1
    assert replica() == (CUSTOMER_ID, "ada", "ada@example.com", True, 1)


def test_user_registered_arriving_after_a_newer_update_keeps_the_newer_profile():
    # given the replica was created from a profile update at version 3
    handle(replicate_updated_profile, updated(3, "ada3"))

    # when the registration (version 1) arrives late
    handle(replicate_registered_customer, registered(1, "ada"))

    # then the newer profile stays
    assert replica() == (CUSTOMER_ID, "ada3", "ada3@example.com", True, 3)


def test_user_profile_updated_follows_newer_versions():
    # given a replica at version 1
    handle(replicate_registered_customer, registered())

    # when a version 2 update arrives
    handle(replicate_updated_profile, updated(2, "ada2"))

    # then the replica follows
    assert replica() == (CUSTOMER_ID, "ada2", "ada2@example.com", True, 2)


def test_late_older_profile_update_does_not_overwrite_a_newer_one():
    # given the replica is at version 3
    handle(replicate_registered_customer, registered())
    handle(replicate_updated_profile, updated(3, "ada3"))

    # when version 2 arrives late (and version 3 is redelivered)
    handle(replicate_updated_profile, updated(2, "ada2"))
    handle(replicate_updated_profile, updated(3, "other"))

    # then version 3 stays
    assert replica() == (CUSTOMER_ID, "ada3", "ada3@example.com", True, 3)


def test_user_profile_updated_creates_a_missing_replica():
    # given no replica (the registration has not arrived)
    # when an update arrives
    handle(replicate_updated_profile, updated(2, "ada2"))

    # then the replica is created from it
    assert replica() == (CUSTOMER_ID, "ada2", "ada2@example.com", True, 2)


def test_user_deactivated_marks_replica_inactive_and_cancels_open_orders_only(
    customer: Customer, other_customer: Customer, products: dict[str, Product], published_events
):
    # given 4242 has a placed, a paid and a shipped order; another customer has one placed
    def place(customer_id: int = CUSTOMER_ID) -> Order:
        return order_place(customer_id=customer_id, lines=[OrderLineIn(sku="BOOK-1", quantity=2)])

    placed, paid, shipped = place(), place(), place()
    order_mark_paid(order_id=paid.pk)
    order_mark_paid(order_id=shipped.pk)
    order_mark_shipped(order_id=shipped.pk)
    others = place(OTHER_CUSTOMER_ID)
    published_events.clear()

    # when the deactivation arrives
    handle(deactivate_customer, UserDeactivated(user_id=CUSTOMER_ID, reason="fraud"))

    # then the replica is inactive, the open orders cancelled, the shipped one untouched
    assert Customer.objects.get(pk=CUSTOMER_ID).is_active is False
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {
        placed.pk: "cancelled",
        paid.pk: "cancelled",
        shipped.pk: "shipped",
        others.pk: "placed",
    }
    assert set(
        Order.objects.filter(status="cancelled").values_list("cancel_reason", flat=True)
    ) == {"customer_deactivated"}
    # and one OrderCancelled per cancelled order
    assert published_events.of(OrderCancelled) == [
        OrderCancelled(
            order_id=order.pk,
            customer_id=CUSTOMER_ID,
            total=Decimal("25.00"),
            currency="EUR",
            reason="customer_deactivated",
        )
        for order in (placed, paid)
    ]
    assert published_events.names() == ["orders.order_cancelled"] * 2


def test_user_deactivated_twice_is_idempotent(
    customer: Customer, products: dict[str, Product], published_events
):
    # given a deactivation already applied
    order_place(customer_id=CUSTOMER_ID, lines=[OrderLineIn(sku="PEN-1", quantity=1)])
    handle(deactivate_customer, UserDeactivated(user_id=CUSTOMER_ID, reason="fraud"))
    published_events.clear()

    # when it is delivered again
    handle(deactivate_customer, UserDeactivated(user_id=CUSTOMER_ID, reason="fraud"))

    # then nothing more happens
    assert len(published_events) == 0
    assert Customer.objects.get(pk=CUSTOMER_ID).is_active is False
    assert list(Order.objects.values_list("status", flat=True)) == ["cancelled"]


def test_user_deactivated_before_registration_creates_an_inactive_replica_that_stays_inactive():
    # given no replica
    # when the deactivation overtakes the registration
    handle(deactivate_customer, UserDeactivated(user_id=CUSTOMER_ID, reason="spam"))
    assert replica() == (CUSTOMER_ID, "", "", False, 0)
    handle(replicate_registered_customer, registered())

    # then the profile is filled in but the customer stays inactive
    assert replica() == (CUSTOMER_ID, "ada", "ada@example.com", False, 1)


def test_account_events_reach_the_handlers_through_the_bus(
    customer: Customer, products: dict[str, Product], django_capture_on_commit_callbacks
):
    # given an open order of 4242
    order = order_place(customer_id=CUSTOMER_ID, lines=[OrderLineIn(sku="PEN-1", quantity=1)])

    # when accounts publishes the deactivation and the transaction commits
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        publish(UserDeactivated(user_id=CUSTOMER_ID, reason="fraud"))

    # then orders' handler ran through the bus and recorded its success
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert order.cancel_reason == "customer_deactivated"
    assert Customer.objects.get(pk=CUSTOMER_ID).is_active is False
    delivery = Delivery.objects.get(handler="orders.handlers.deactivate_customer")
    assert delivery.status == Delivery.Status.SUCCEEDED
