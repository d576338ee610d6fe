"""Subscribers of orders to accounts' events: they keep the customer replica and cancel
the open orders of a deactivated customer.

Each runs after the publishing transaction commits, inside a transaction the bus opens,
and only calls a service. All are idempotent: a redelivered event changes nothing more.
"""

from accounts.events import UserDeactivated, UserProfileUpdated, UserRegistered
from eventbus import subscriber
from orders import services


@subscriber(UserRegistered)
def replicate_registered_customer(event: UserRegistered) -> None:
    """Create the customer's replica (a newer replica already there is kept)."""
    services.customer_replica_upsert(
        customer_id=event.user_id,
        username=event.username,
        email=event.email,
        profile_version=event.profile_version,
    )


@subscriber(UserProfileUpdated)
def replicate_updated_profile(event: UserProfileUpdated) -> None:
    """Follow the profile; an older update arriving late is ignored, a missing replica made."""
    services.customer_replica_upsert(
        customer_id=event.user_id,
        username=event.username,
        email=event.email,
        profile_version=event.profile_version,
    )


@subscriber(UserDeactivated)
def deactivate_customer(event: UserDeactivated) -> None:
    """Mark the replica inactive and cancel the customer's placed and paid orders."""
    services.customer_deactivate(customer_id=event.user_id)
