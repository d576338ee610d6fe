"""A customer and an operator in a real browser (headless Chromium), on the monolith as
`make run` serves it: the development settings under runserver, SQLite, the demo data.

`make test-browser` runs these (`-m browser`); the same customer walk through split mode is
in tests/test_split.py. Nothing here calls the API behind the pages' back, except to count
what a refused request did not write.
"""

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.support.browser import (
    chromium,
    jwt_cookie_names,
    log_in,
    log_out,
    profile,
    status_line,
    walk_the_customer_journey,
)
from tests.support.databases import poll
from tests.support.http import http
from tests.support.processes import free_ports
from tools.split import PYTHON, Processes, run

pytestmark = pytest.mark.browser

CUSTOMER = ("alice", "demo-alice-pass-2026")
STAFF = ("admin", "demo-admin-pass-2026")
#: Where to save the dashboard's screenshot (the README's docs/dashboard.png), if set.
SCREENSHOT = os.environ.get("DASHBOARD_SCREENSHOT", "")


@pytest.fixture(scope="module")
def monolith(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`make run`'s server: migrate, load the demo data, runserver on a free port, with a
    worker beside it."""
    root = tmp_path_factory.mktemp("browser")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": f"sqlite:///{root / 'db.sqlite3'}",
        "PYTHONUNBUFFERED": "1",
    }
    run(["manage.py", "migrate", "--no-input", "-v0"], env=env, timeout=120)
    run(["manage.py", "load_demo_data"], env=env, timeout=120)
    (port,) = free_ports(1)
    url = f"http://127.0.0.1:{port}"
    server = Processes(quiet=True)
    command = [PYTHON, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    server.launch("runserver", command, env)
    # make run's worker beside the server: retries and Django tasks, and a heartbeat
    server.launch("worker", [PYTHON, "manage.py", "eventbus", "worker"], env)
    try:

        def serving() -> bool:
            server.check_alive()
            try:
                return http("GET", f"{url}/api/", timeout=2).status == 200
            except OSError:
                return False

        poll(serving, timeout=60, what="runserver serves the monolith")
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


def test_a_customer_orders_cancels_and_logs_out_through_the_browsable_api(
    monolith: str, page: Page
) -> None:
    before = profile_as_bearer(monolith)

    seen = walk_the_customer_journey(
        page,
        accounts_url=monolith,
        orders_url=monolith,
        username=CUSTOMER[0],
        password=CUSTOMER[1],
    )
    me = profile(page, monolith)
    page.goto(f"{monolith}/api/accounts/me/")
    log_out(page)

    assert seen["anonymous"] == "HTTP 401 Unauthorized"
    assert seen["after_login_url"] == f"{monolith}/api/orders/"
    assert seen["after_login"] == "HTTP 200 OK"
    assert (seen["first_order"], seen["second_order"]) == ("HTTP 201 Created", "HTTP 201 Created")
    assert (seen["cancel"], seen["cancelled_status"]) == ("HTTP 200 OK", "cancelled")
    assert me["orders_count"] == before["orders_count"] + 1
    assert status_line(page) == "HTTP 401 Unauthorized"  # back on /me/, logged out
    assert jwt_cookie_names(page) == set()


def test_a_cross_site_post_is_refused_and_writes_nothing(monolith: str, page: Page) -> None:
    # given: the customer is logged in, so the browser holds the JWT cookie
    page.goto(f"{monolith}/api/orders/")
    log_in(page, *CUSTOMER)
    before = profile_as_bearer(monolith)["orders_count"]
    assert "api-access" in jwt_cookie_names(page)

    # when: another site's page posts a form to the orders API
    attacker = "http://attacker.test/"
    page.route(
        attacker,
        lambda route: route.fulfill(
            content_type="text/html",
            body=f"""<form id="f" method="post" action="{monolith}/api/orders/"
                      enctype="text/plain">
                      <input name='{{"lines": [{{"sku": "MUG-001", "quantity": 1}}], "x": "'
                             value='"}}'>
                    </form>""",
        ),
    )
    page.goto(attacker)
    with page.expect_response(f"{monolith}/api/orders/") as answer:
        page.evaluate("document.getElementById('f').submit()")

    # then: refused, and no order was written
    assert answer.value.status in (401, 403)
    assert profile_as_bearer(monolith)["orders_count"] == before


def bearer_token(url: str) -> str:
    """The customer's access token from the API's login (for the test's own requests)."""
    login = http(
        "POST", f"{url}/api/accounts/login/", {"username": CUSTOMER[0], "password": CUSTOMER[1]}
    )
    return login.body["access"]


def profile_as_bearer(url: str) -> dict:
    """The customer's profile read with a bearer token (for counting, not as the browser)."""
    return http("GET", f"{url}/api/accounts/me/", token=bearer_token(url)).body


def test_an_operator_sees_the_bus_on_the_dashboard(monolith: str, page: Page) -> None:
    # given: traffic in the last hour, through the API
    token = bearer_token(monolith)
    for sku in ("MUG-001", "TEE-001", "MUG-001"):
        placed = http(
            "POST",
            f"{monolith}/api/orders/",
            {"lines": [{"sku": sku, "quantity": 1}]},
            token=token,
        )
        assert placed.status == 201, placed

    # when: staff log in to the admin and open the dashboard from its index
    page.goto(f"{monolith}/admin/login/?next=/admin/")
    page.fill("#id_username", STAFF[0])
    page.fill("#id_password", STAFF[1])
    page.click("input[type=submit]")
    page.click("text=Dashboard")
    page.wait_for_load_state()

    # then: the three charts drew lines, and the other sections are there
    assert page.url == f"{monolith}/admin/eventbus/dashboard/"
    charts = page.locator("svg.eventbus-chart")
    assert sorted(
        charts.nth(i).get_attribute("data-chart") or "" for i in range(charts.count())
    ) == [
        "backlog",
        "deliveries",
        "latency",
    ]
    widths = {}
    for i in range(charts.count()):
        chart = charts.nth(i)
        assert chart.get_attribute("data-empty") is None
        box = chart.locator("polyline").first.bounding_box()
        widths[chart.get_attribute("data-chart")] = box["width"] if box else 0
    # backlog and deliveries span the hour; latency only the minutes that had events
    assert widths["backlog"] > 300 and widths["deliveries"] > 300, widths
    assert widths["latency"] > 0, widths
    module_map = page.locator("#module-map").inner_text()
    assert "accounts" in module_map and "orders" in module_map
    assert "worker" in page.locator("#processes").inner_text().lower()
    if SCREENSHOT:
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path=SCREENSHOT, full_page=True)
