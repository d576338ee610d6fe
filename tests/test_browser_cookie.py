"""The browsable API's JWT cookie: logged in at /api/auth/login/, read by accounts and orders
with DRF's CSRF check, cleared and blacklisted at /api/auth/logout/ (inline mode).

The clients here enforce CSRF as a browser's requests are checked; the real-browser walk
through the pages themselves is tests/test_browser.py.
"""

import re
from decimal import Decimal

import pytest
from django.test import Client, override_settings
from django.utils.http import urlencode
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts.models import User
from eventbus.models import OutboxMessage
from orders.models import Order
from orders.services import product_upsert

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "bob-correct-horse-battery"
ACCESS = "api-access"
REFRESH = "api-refresh"
ORDER = '{"lines": [{"sku": "MUG-001", "quantity": 2}]}'


@pytest.fixture(autouse=True)
def catalogue() -> None:
    product_upsert(sku="MUG-001", name="Coffee mug", price=Decimal("12.50"))


@pytest.fixture
def bob(client: Client) -> User:
    response = client.post(
        "/api/accounts/register/",
        {"username": "bob", "email": "bob@example.com", "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return User.objects.get(username="bob")


@pytest.fixture
def browser(bob: User) -> Client:
    """A browser-like client (CSRF enforced) that logged in through the login page."""
    browser = Client(enforce_csrf_checks=True)
    browser.get("/api/auth/login/")  # the page sets the CSRF cookie
    response = browser.post(
        "/api/auth/login/?next=/api/orders/",
        {"username": "bob", "password": PASSWORD, "csrfmiddlewaretoken": csrf(browser)},
    )
    assert (response.status_code, response["Location"]) == (302, "/api/orders/")
    return browser


def csrf(browser: Client) -> str:
    return browser.cookies["csrftoken"].value


def test_logging_in_sets_the_jwt_cookies_httponly_samesite_lax_and_no_session(
    bob: User,
) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.get("/api/auth/login/")

    response = browser.post(
        "/api/auth/login/",
        {"username": "bob", "password": PASSWORD, "csrfmiddlewaretoken": csrf(browser)},
    )

    access, refresh = response.cookies[ACCESS], response.cookies[REFRESH]
    assert (response.status_code, response["Location"]) == (302, "/api/")
    assert (access["httponly"], access["samesite"], access["path"], access["max-age"]) == (
        True,
        "Lax",
        "/",
        900,
    )
    assert (refresh["httponly"], refresh["samesite"], refresh["path"], refresh["max-age"]) == (
        True,
        "Lax",
        "/api/auth/",
        7 * 24 * 3600,
    )
    assert access["secure"] == refresh["secure"] == ""  # development: plain HTTP
    assert "sessionid" not in response.cookies
    assert "_auth_user_id" not in response.wsgi_request.session


@override_settings(JWT_AUTH_SECURE=True)
def test_outside_development_the_cookies_are_secure(bob: User) -> None:
    response = Client().post("/api/auth/login/", {"username": "bob", "password": PASSWORD})

    assert response.cookies[ACCESS]["secure"] is True
    assert response.cookies[REFRESH]["secure"] is True


def test_a_wrong_password_shows_the_form_again_and_sets_no_cookie(bob: User) -> None:
    response = Client().post("/api/auth/login/", {"username": "bob", "password": "wrong"})

    assert response.status_code == 200
    assert "Invalid username or password." in response.content.decode()
    assert ACCESS not in response.cookies and REFRESH not in response.cookies


def test_next_to_another_site_is_ignored(bob: User) -> None:
    response = Client().post(
        "/api/auth/login/?next=https://evil.example/", {"username": "bob", "password": PASSWORD}
    )

    assert (response.status_code, response["Location"]) == (302, "/api/")


@override_settings(API_LOGIN_REDIRECT_HOSTS=["127.0.0.1:8002"])
def test_next_may_lead_to_another_service_of_the_site(bob: User) -> None:
    response = Client().post(
        "/api/auth/login/?next=http://127.0.0.1:8002/api/orders/",
        {"username": "bob", "password": PASSWORD},
    )

    assert response["Location"] == "http://127.0.0.1:8002/api/orders/"


def test_orders_accepts_the_cookie_with_the_csrf_token(browser: Client, bob: User) -> None:
    placed = browser.post(
        "/api/orders/", ORDER, content_type="application/json", HTTP_X_CSRFTOKEN=csrf(browser)
    )
    listed = browser.get("/api/orders/", HTTP_ACCEPT="application/json")
    me = browser.get("/api/accounts/me/", HTTP_ACCEPT="application/json")

    assert placed.status_code == 201, placed.content
    assert placed.json()["customer_id"] == bob.pk
    assert [o["id"] for o in listed.json()["results"]] == [placed.json()["id"]]
    assert (me.json()["username"], me.json()["orders_count"]) == ("bob", 1)


def test_the_browsable_api_offers_the_order_form_to_a_cookie_customer(browser: Client) -> None:
    page = browser.get("/api/orders/", HTTP_ACCEPT="text/html").content.decode()

    assert "HTTP 200 OK" in page
    assert 'id="post-generic-content-form"' in page  # the raw-data POST form
    assert 'id="logoutForm" method="post" action="/api/auth/logout/?next=/api/orders/"' in page
    # the menu names the customer by the token's username claim (orders has no user table)
    assert re.search(r'data-toggle="dropdown">\s*bob\s*<b class="caret">', page)


def test_a_cookie_without_the_csrf_token_is_refused_and_writes_nothing(browser: Client) -> None:
    outbox_before = OutboxMessage.objects.count()

    response = browser.post("/api/orders/", ORDER, content_type="application/json")

    assert response.status_code == 403
    assert response.json()["detail"].startswith("CSRF Failed")
    assert Order.objects.count() == 0
    assert OutboxMessage.objects.count() == outbox_before


def test_a_cross_site_post_with_a_wrong_origin_is_refused(browser: Client) -> None:
    response = browser.post(
        "/api/orders/",
        ORDER,
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf(browser),
        HTTP_ORIGIN="https://evil.example",
    )

    assert response.status_code == 403
    assert "Origin checking failed" in response.json()["detail"]
    assert Order.objects.count() == 0


def test_a_garbage_cookie_is_anonymous_not_an_error(bob: User) -> None:
    client = Client()
    client.cookies[ACCESS] = "not-a-jwt"

    orders = client.get("/api/orders/", HTTP_ACCEPT="application/json")
    products = client.get("/api/orders/products/", HTTP_ACCEPT="application/json")

    assert orders.status_code == 401
    assert orders.json()["detail"] == "Authentication credentials were not provided."
    assert products.status_code == 200


def test_an_admin_session_is_still_not_a_customer(bob: User) -> None:
    staff = Client()
    staff.force_login(User.objects.create_superuser("root", "root@example.com", PASSWORD))

    response = staff.get("/api/orders/", HTTP_ACCEPT="application/json")

    assert response.status_code == 401


def test_a_bearer_client_needs_no_csrf_token(bob: User) -> None:
    login = Client().post(
        "/api/accounts/login/",
        {"username": "bob", "password": PASSWORD},
        content_type="application/json",
    )
    bearer = Client(enforce_csrf_checks=True)

    placed = bearer.post(
        "/api/orders/",
        ORDER,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {login.json()['access']}",
    )

    assert placed.status_code == 201


def test_logging_out_clears_the_cookies_and_blacklists_the_refresh_token(
    browser: Client,
) -> None:
    refresh = browser.cookies[REFRESH].value

    response = browser.post(
        "/api/auth/logout/?next=/api/orders/", {"csrfmiddlewaretoken": csrf(browser)}
    )

    assert (response.status_code, response["Location"]) == (302, "/api/orders/")
    assert response.cookies[ACCESS].value == "" and response.cookies[ACCESS]["max-age"] == 0
    assert (
        response.cookies[REFRESH].value == "" and response.cookies[REFRESH]["path"] == "/api/auth/"
    )
    assert BlacklistedToken.objects.count() == 1
    reuse = Client().post(
        "/api/accounts/token/refresh/", {"refresh": refresh}, content_type="application/json"
    )
    assert reuse.status_code == 401
    assert browser.get("/api/orders/", HTTP_ACCEPT="application/json").status_code == 401


def test_logging_out_without_the_csrf_token_is_refused(browser: Client) -> None:
    response = browser.post("/api/auth/logout/")

    assert response.status_code == 403
    assert BlacklistedToken.objects.count() == 0
    assert ACCESS not in response.cookies


@override_settings(
    ROOT_URLCONF="config.urls_orders", API_LOGIN_URL="http://127.0.0.1:8001/api/auth/login/"
)
def test_orders_alone_sends_the_browser_to_the_accounts_login() -> None:
    response = Client().get("/api/auth/login/?" + urlencode({"next": "/api/orders/"}))
    escape = Client().get("/api/auth/login/?next=https://evil.example/")

    assert response.status_code == 302
    assert response["Location"] == (
        "http://127.0.0.1:8001/api/auth/login/?next=http%3A%2F%2Ftestserver%2Fapi%2Forders%2F"
    )
    assert escape["Location"].endswith("?next=http%3A%2F%2Ftestserver%2Fapi%2F")


def test_the_login_page_logs_in_again_with_the_refresh_cookie(browser: Client) -> None:
    # given: the access cookie has expired (15 minutes), the refresh cookie has not
    old_refresh = browser.cookies[REFRESH].value
    del browser.cookies[ACCESS]

    # when: the customer follows "Log in" again
    response = browser.get("/api/auth/login/?next=/api/orders/")

    # then: no form, fresh cookies, and the old refresh token cannot be used twice
    assert (response.status_code, response["Location"]) == (302, "/api/orders/")
    assert response.cookies[ACCESS].value and response.cookies[REFRESH].value != old_refresh
    assert BlacklistedToken.objects.count() == 1
    assert browser.get("/api/orders/", HTTP_ACCEPT="application/json").status_code == 200


def test_the_login_page_shows_the_form_for_a_bad_refresh_cookie(bob: User) -> None:
    client = Client()
    client.cookies[REFRESH] = "not-a-jwt"

    response = client.get("/api/auth/login/")

    assert response.status_code == 200
    assert 'name="username"' in response.content.decode()
    assert ACCESS not in response.cookies
