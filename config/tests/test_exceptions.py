"""The API exception handler: every domain error answers with the status, body and headers
it declares, through any DRF view; Django's ValidationError is a 400; the rest is DRF's."""

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from accounts.exceptions import (
    AccountsError,
    DeactivationForbidden,
    InvalidCredentials,
    InvalidRefreshToken,
    LoginThrottled,
)
from config.exceptions import DOMAIN_ERRORS, api_exception_handler
from orders.exceptions import (
    CustomerDeactivated,
    CustomerInactive,
    CustomerNotReplicated,
    InvalidOrderTransition,
    OrderInvalid,
    OrderNotFound,
    OrdersError,
)

HEADERS = ("Retry-After", "WWW-Authenticate")
BEARER = {"WWW-Authenticate": 'Bearer realm="api"'}


class RaisingView(APIView):
    """A view with the project's default authentication that raises ``error``."""

    permission_classes = [AllowAny]
    error: Exception = RuntimeError("set error in as_view()")

    def get(self, request: Request) -> Response:
        raise self.error


def call(error: Exception, **view_attributes: Any) -> Response:
    view = RaisingView.as_view(error=error, **view_attributes)
    response = view(APIRequestFactory().get("/"))
    response.render()
    return response


def sent_headers(response: Response) -> dict[str, str]:
    return {name: response[name] for name in HEADERS if response.has_header(name)}


DOMAIN_CASES = [
    pytest.param(
        AccountsError("The rules refuse this."),
        400,
        {"detail": "The rules refuse this."},
        {},
        id="AccountsError",
    ),
    pytest.param(
        InvalidCredentials(),
        401,
        {"detail": "Invalid username or password."},
        BEARER,
        id="InvalidCredentials",
    ),
    pytest.param(
        LoginThrottled(120),
        429,
        {"detail": "Too many failed login attempts. Expected available in 120 seconds."},
        {"Retry-After": "120"},
        id="LoginThrottled",
    ),
    pytest.param(
        LoginThrottled(1),
        429,
        {"detail": "Too many failed login attempts. Expected available in 1 second."},
        {"Retry-After": "1"},
        id="LoginThrottled-one-second",
    ),
    pytest.param(
        InvalidRefreshToken("Token is blacklisted"),
        401,
        {"detail": "Token is blacklisted", "code": "token_not_valid"},
        BEARER,
        id="InvalidRefreshToken",
    ),
    pytest.param(
        InvalidRefreshToken("No active account found for the given token.", code=None),
        401,
        {"detail": "No active account found for the given token."},
        BEARER,
        id="InvalidRefreshToken-no-code",
    ),
    pytest.param(
        OrdersError("The rules refuse this."),
        400,
        {"detail": "The rules refuse this."},
        {},
        id="OrdersError",
    ),
    pytest.param(
        OrderInvalid({"lines": {"0": {"sku": ["Unknown or inactive product 'X'."]}}}),
        400,
        {"lines": {"0": {"sku": ["Unknown or inactive product 'X'."]}}},
        {},
        id="OrderInvalid",
    ),
    pytest.param(
        CustomerNotReplicated(7),
        409,
        {
            "detail": "Customer 7 is not known to orders yet (its replica has not arrived from "
            "accounts). Retry in 2 seconds."
        },
        {"Retry-After": "2"},
        id="CustomerNotReplicated",
    ),
    pytest.param(
        CustomerInactive(7),
        403,
        {"detail": "Customer 7 is deactivated and can no longer place orders."},
        {},
        id="CustomerInactive",
    ),
    pytest.param(
        CustomerDeactivated(7),
        403,
        {"detail": "Customer 7 is deactivated; its orders can no longer be read or changed."},
        {},
        id="CustomerDeactivated",
    ),
    pytest.param(
        DeactivationForbidden(username="root"),
        403,
        {
            "detail": "Only a superuser can deactivate the superuser 'root'; ask a superuser to do it."
        },
        {},
        id="DeactivationForbidden",
    ),
    pytest.param(
        OrderNotFound(7),
        404,
        {"detail": "Order 7 does not exist."},
        {},
        id="OrderNotFound",
    ),
    pytest.param(
        InvalidOrderTransition(
            order_id=7, status="shipped", action="cancelled", allowed=["placed", "paid"]
        ),
        409,
        {
            "detail": "Order 7 is shipped and cannot be cancelled; "
            "only placed or paid orders can be."
        },
        {},
        id="InvalidOrderTransition",
    ),
]


@pytest.mark.parametrize(("error", "status", "body", "headers"), DOMAIN_CASES)
def test_a_domain_error_answers_with_its_status_body_and_headers(
    error: Exception, status: int, body: dict[str, Any], headers: dict[str, str]
) -> None:
    # when
    response = call(error)

    # then
    assert response.status_code == status
    assert response.data == body
    assert sent_headers(response) == headers


def test_every_domain_error_class_has_a_case_above() -> None:
    # given: the roots and all their subclasses, at any depth
    def with_subclasses(cls: type) -> set[type]:
        return {cls}.union(*(with_subclasses(sub) for sub in cls.__subclasses__()))

    declared = set().union(*(with_subclasses(root) for root in DOMAIN_ERRORS))

    # then: a new error cannot ship without its answer being pinned here
    tested = {type(case.values[0]) for case in DOMAIN_CASES}
    assert declared == tested
    assert set(DOMAIN_ERRORS) == {AccountsError, OrdersError}


def test_a_401_on_a_view_without_an_authentication_challenge_is_a_403() -> None:
    # when: no authenticator, hence no WWW-Authenticate to send (as DRF does for its own 401s)
    response = call(InvalidCredentials(), authentication_classes=[])

    # then
    assert response.status_code == 403
    assert response.data == {"detail": "Invalid username or password."}
    assert sent_headers(response) == {}


@pytest.mark.parametrize(
    ("error", "body"),
    [
        (
            ValidationError({"email": ["A user with that email already exists."]}),
            {"email": ["A user with that email already exists."]},
        ),
        (
            ValidationError(["Too late.", "Too big."]),
            {"detail": ["Too late.", "Too big."]},
        ),
    ],
    ids=["per-field", "without-field"],
)
def test_a_django_validation_error_is_a_400_with_its_messages(
    error: ValidationError, body: dict[str, Any]
) -> None:
    # when
    response = call(error)

    # then
    assert response.status_code == 400
    assert response.data == body
    assert sent_headers(response) == {}


def test_an_unexpected_error_is_left_to_django_as_a_server_error() -> None:
    # when / then: not a client's fault, so no 4xx hides it
    assert api_exception_handler(RuntimeError("boom"), {}) is None
    with pytest.raises(RuntimeError, match=r"^boom$"):
        call(RuntimeError("boom"))
