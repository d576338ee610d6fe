"""Errors raised by the orders services: one root, small specific subclasses.

Each class declares how the API answers it: ``status_code``, ``detail`` (the body: the
exception's message, or per-field errors) and ``retry_after_seconds`` (the ``Retry-After``
header, when waiting helps). ``config.exceptions`` reads them; the admin shows the message.
"""

from typing import Any


class OrdersError(Exception):
    """Root of every error the orders services raise on purpose."""

    status_code: int = 400
    retry_after_seconds: int | None = None

    @property
    def detail(self) -> str | dict[str, Any]:
        """What an API client is told: the message, unless a subclass says otherwise."""
        return str(self)


class OrderInvalid(OrdersError):
    """The requested order breaks a rule; ``errors`` holds per-field messages.

    The shape follows the request: ``{"lines": ["..."]}`` for the list as a whole,
    ``{"lines": {"0": {"sku": ["..."]}}}`` for one line (index as a string).
    """

    status_code = 400

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__(errors)
        self.errors = errors

    @property
    def detail(self) -> dict[str, Any]:
        return self.errors


class CustomerNotReplicated(OrdersError):
    """orders has no replica of this customer yet (its registration event has not arrived).

    Transient: retrying after a short wait usually succeeds.
    """

    status_code = 409
    retry_after_seconds = 2

    def __init__(self, customer_id: int) -> None:
        super().__init__(
            f"Customer {customer_id} is not known to orders yet (its replica has not arrived "
            f"from accounts). Retry in {self.retry_after_seconds} seconds."
        )
        self.customer_id = customer_id


class CustomerInactive(OrdersError):
    """The customer's account is deactivated; it cannot place orders."""

    status_code = 403

    def __init__(self, customer_id: int) -> None:
        super().__init__(f"Customer {customer_id} is deactivated and can no longer place orders.")
        self.customer_id = customer_id


class CustomerDeactivated(OrdersError):
    """The customer's account is deactivated; orders answers none of its requests."""

    status_code = 403

    def __init__(self, customer_id: int) -> None:
        super().__init__(
            f"Customer {customer_id} is deactivated; its orders can no longer be read or changed."
        )
        self.customer_id = customer_id


class OrderNotFound(OrdersError):
    """No such order (or not one of the given customer's)."""

    status_code = 404

    def __init__(self, order_id: int) -> None:
        super().__init__(f"Order {order_id} does not exist.")
        self.order_id = order_id


class InvalidOrderTransition(OrdersError):
    """The order's current status does not allow the requested change."""

    status_code = 409

    def __init__(self, *, order_id: int, status: str, action: str, allowed: list[str]) -> None:
        super().__init__(
            f"Order {order_id} is {status} and cannot be {action}; "
            f"only {' or '.join(allowed)} orders can be."
        )
        self.order_id = order_id
        self.status = status
        self.action = action
        self.allowed = allowed
