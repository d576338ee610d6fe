"""A real browser for tests: Debian's Chromium driven by Playwright, and the customer's walk
through the browsable API's own pages (log in, order, cancel, see the profile, log out).

``make browser`` installs Chromium from Debian's packages (Playwright's own browser download
cannot reach its CDN here). Without it the browser tests skip with that advice, and fail
under ``CI=true``.
"""

import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Headless, and quiet: the machine's network is closed, so nothing in the background.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium; skipped (failed in CI) when it is not installed."""
    if shutil.which(CHROMIUM) is None:
        message = f"{CHROMIUM} is missing: `make browser` installs Debian's chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def status_line(page: Page) -> str:
    """The browsable API's "HTTP 201 Created" line of the page shown."""
    return page.locator(".response-info pre .meta").first.inner_text().splitlines()[0].strip()


def response_json(page: Page) -> dict:
    """The body the browsable API shows, parsed (the text after the headers)."""
    text = page.locator(".response-info pre").first.inner_text()
    return json.loads(text[text.index("{") :])


def post_raw(page: Page, content: str = "") -> None:
    """Send the page's POST form (its "Raw data" tab) as JSON, as a person would: open the
    tab, type the body, press POST; waits for the page the answer replaces it with."""
    form = page.locator("#post-generic-content-form form")
    if page.locator("a[name='raw-tab'][href='#post-generic-content-form']").count():
        page.click("a[name='raw-tab'][href='#post-generic-content-form']")
    form.locator("select[name='_content_type']").select_option("application/json")
    form.locator("textarea[name='_content']").fill(content)
    shown = page.locator(".response-info").element_handle()
    with page.expect_response(lambda r: r.request.method == "POST"):
        form.locator("button", has_text="POST").click()
    # DRF's ajax form writes the answer's page over this one: wait for the old one to go.
    page.wait_for_function("shown => !shown.isConnected", arg=shown)
    page.wait_for_load_state()


def log_in(page: Page, username: str, password: str) -> None:
    """Follow the page's "Log in" link and sign in on the form it leads to."""
    page.click("text=Log in")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#submit-id-submit")
    page.wait_for_load_state()


def log_out(page: Page) -> None:
    """Open the user menu and press "Log out"; waits for the page logout redirects to."""
    page.click(".navbar .dropdown-toggle")
    with page.expect_response(lambda r: r.request.redirected_from is not None):
        page.click("text=Log out")
    page.wait_for_load_state()


def order_id_in(page: Page) -> int:
    return int(response_json(page)["id"])


def walk_the_customer_journey(
    page: Page, *, accounts_url: str, orders_url: str, username: str, password: str
) -> dict:
    """Through the pages alone: open orders (401), log in by its link, place two orders,
    cancel the first, read the profile on accounts, log out. Returns what each step saw."""
    seen: dict = {}
    page.goto(f"{orders_url}/api/orders/")
    seen["anonymous"] = status_line(page)
    log_in(page, username, password)
    seen["after_login_url"] = page.url
    seen["after_login"] = status_line(page)

    post_raw(page, '{"lines": [{"sku": "MUG-001", "quantity": 2}]}')
    seen["first_order"] = status_line(page)
    first = order_id_in(page)
    page.goto(f"{orders_url}/api/orders/")
    post_raw(page, '{"lines": [{"sku": "TEE-001", "quantity": 1}]}')
    seen["second_order"] = status_line(page)

    page.goto(f"{orders_url}/api/orders/{first}/cancel/")
    post_raw(page)
    seen["cancel"] = status_line(page)
    seen["cancelled_status"] = response_json(page)["status"]
    return seen


def profile(page: Page, accounts_url: str) -> dict:
    page.goto(f"{accounts_url}/api/accounts/me/")
    return response_json(page)


def jwt_cookie_names(page: Page) -> set[str]:
    return {c["name"] for c in page.context.cookies() if re.fullmatch(r"api-\w+", c["name"])}
