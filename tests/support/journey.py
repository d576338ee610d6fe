"""The user journey through the API, and the end state it leaves in the databases.

Everything goes through HTTP, as a client would: nothing imports accounts or orders, so the
same journey runs against the monolith and against the two services.
"""

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from tests.support.databases import Database, poll
from tests.support.http import Response, http

ORDERS = [[("MUG-001", 2)], [("TEE-001", 1), ("STICKER-01", 1)]]  # 25.00 and 23.10 EUR
#: The bus's internal event of an enqueued Django task (eventbus.tasks).
TASK_EVENT = "eventbus.task_enqueued"


@dataclass
class Journey:
    """What a walk through the API saw, for the comparison of the two deployments."""

    user_id: int
    token: str
    correlation: str
    stats_after_orders: dict[str, Any]
    early_conflicts: int = 0


def register(accounts_url: str, username: str, correlation: str | None = None) -> tuple[int, str]:
    """Register and log in through accounts; returns (user id, access token)."""
    password = f"{username}-correct-horse-battery"
    created = http(
        "POST",
        f"{accounts_url}/api/accounts/register/",
        {"username": username, "email": f"{username}@example.com", "password": password},
        correlation=correlation,
    )
    assert created.status == 201, created
    login = http(
        "POST",
        f"{accounts_url}/api/accounts/login/",
        {"username": username, "password": password},
        correlation=correlation,
    )
    assert login.status == 200, login
    return login.body["user"]["id"], login.body["access"]


def place_order(
    orders_url: str, token: str, lines: list[tuple[str, int]], correlation: str | None = None
) -> Response:
    return http(
        "POST",
        f"{orders_url}/api/orders/",
        {"lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines]},
        token=token,
        correlation=correlation,
    )


def place_when_known(
    orders_url: str,
    token: str,
    lines: list[tuple[str, int]],
    *,
    correlation: str | None = None,
    timeout: float = 60,
) -> tuple[Response, int]:
    """Place an order, honouring 409 + Retry-After until orders' replica has arrived."""
    deadline = time.monotonic() + timeout
    conflicts = 0
    while True:
        placed = place_order(orders_url, token, lines, correlation)
        if placed.status != 409:
            return placed, conflicts
        conflicts += 1
        retry_after = placed.headers.get("Retry-After", "")
        assert retry_after.isdigit(), f"409 without a Retry-After header: {placed}"
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"orders still does not know the customer after {timeout} s")
        # Honour the server's advice, but poll a little faster while it is far away.
        time.sleep(min(int(retry_after), left, 1.0))


def walk_the_journey(accounts_url: str, orders_url: str, username: str) -> Journey:
    """Register, log in, order (twice), see the profile's stats, deactivate, see orders
    refuse the deactivated customer. The same steps whether the two URLs are one monolith or two services.

    Every request carries the correlation id ``journey-<username>``, and so does every
    event it causes, on whichever side of the broker: the summary selects them by it."""
    correlation = f"journey-{username}"
    user_id, token = register(accounts_url, username, correlation)
    conflicts = 0
    totals = []
    for lines in ORDERS:
        placed, early = place_when_known(orders_url, token, lines, correlation=correlation)
        conflicts += early
        assert placed.status == 201, placed
        assert placed.body["status"] == "placed"
        assert placed.body["customer_id"] == user_id
        totals.append(placed.body["total"])
    assert totals == ["25.00", "23.10"]

    def profile_counts_both() -> dict[str, Any] | None:
        me = http("GET", f"{accounts_url}/api/accounts/me/", token=token)
        assert me.status == 200, me
        return me.body if me.body["orders_count"] == len(ORDERS) else None

    me = poll(profile_counts_both, timeout=30, what="accounts' profile counts both orders")
    assert me is not None
    stats = {"orders_count": me["orders_count"], "total_spent": me["total_spent"]}
    assert stats == {"orders_count": 2, "total_spent": {"EUR": "48.10"}}

    deactivated = http(
        "POST",
        f"{accounts_url}/api/accounts/me/deactivate/",
        token=token,
        correlation=correlation,
    )
    assert deactivated.status == 200, deactivated

    def deactivation_reached_orders() -> Response | None:
        listed = http("GET", f"{orders_url}/api/orders/", token=token)
        assert listed.status in (200, 403), listed
        return listed if listed.status == 403 else None

    # Once orders' replica is inactive, every orders endpoint answers 403 to the
    # still-valid token, reads included; the open orders were cancelled in that same
    # transaction (journey_summary reads them from the database).
    poll(deactivation_reached_orders, timeout=30, what="orders refuses the deactivated customer")
    refused = place_order(orders_url, token, ORDERS[0])
    assert refused.status == 403, refused
    return Journey(user_id, token, correlation, stats, early_conflicts=conflicts)


def journey_summary(journey: Journey, *, accounts: Database, orders: Database) -> dict[str, Any]:
    """The end state that must be the same in both modes, read from the databases.

    ``accounts`` and ``orders`` are the same database in the monolith. Events are grouped
    as the producers published them and as the handlers applied them: an event received
    from the broker is a row in the consumer's database, but it is the same event. The
    Django tasks a service enqueued (``eventbus.task_enqueued``: orders' confirmations) are
    its own background work, not events between modules, and run whenever its worker gets
    to them: they are left out.
    """
    user_id = journey.user_id
    stats = accounts.rows(
        "SELECT currency, count(*), sum(total) FROM accounts_orderrecord "
        "WHERE user_id = %s AND NOT cancelled GROUP BY currency",
        (user_id,),
    )
    orders_rows = orders.rows(
        "SELECT status, total::text, cancel_reason FROM orders_order "
        "WHERE customer_id = %s ORDER BY id",
        (user_id,),
    )
    replica = orders.rows(
        "SELECT is_active FROM orders_customer WHERE customer_id = %s", (user_id,)
    )
    databases = {accounts.name: accounts, orders.name: orders}.values()
    published: set[str] = set()
    applied: Counter[tuple[str, str, str]] = Counter()
    for db in databases:
        published |= {
            name
            for (name,) in db.rows(
                "SELECT DISTINCT name FROM eventbus_outboxmessage "
                "WHERE broker <> 'received' AND correlation_id = %s AND name <> %s",
                (journey.correlation, TASK_EVENT),
            )
        }
        applied.update(
            {
                (name, handler, status): n
                for name, handler, status, n in db.rows(
                    "SELECT m.name, d.handler, d.status, count(*) FROM eventbus_delivery d "
                    "JOIN eventbus_outboxmessage m ON m.id = d.message_id "
                    "WHERE m.correlation_id = %s AND m.name <> %s "
                    "GROUP BY m.name, d.handler, d.status",
                    (journey.correlation, TASK_EVENT),
                )
            }
        )
    return {
        "stats_after_orders": journey.stats_after_orders,
        "stats_at_end": sorted(stats),
        "orders": orders_rows,
        "replica_is_active": [active for (active,) in replica],
        "events_published": sorted(published),
        "deliveries": sorted(applied.items()),
    }
