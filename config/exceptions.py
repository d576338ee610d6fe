"""API error shape: DRF's handler, plus the errors a client can cause turned into 4xx.

The modules' domain errors (every subclass of a root below) declare their own answer:
``status_code``, ``detail`` (a message, or per-field errors) and ``retry_after_seconds``.
This handler reads those and nothing else, so no view maps a domain error by hand.
"""

from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from accounts.exceptions import AccountsError
from orders.exceptions import OrdersError

DOMAIN_ERRORS: tuple[type[AccountsError], type[OrdersError]] = (AccountsError, OrdersError)


class DomainError(Protocol):
    """What the handler reads of a domain error."""

    status_code: int
    retry_after_seconds: int | None

    @property
    def detail(self) -> str | dict[str, Any]: ...


class RequestTooLarge(exceptions.APIException):
    """A body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``: Django refuses to read it; this says so."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is larger than {limit} bytes; send a smaller one.")


class DomainErrorResponse(exceptions.APIException):
    """A domain error in the form DRF's handler renders: status, body, ``Retry-After``
    (from ``wait``) and ``WWW-Authenticate`` (from ``auth_header``)."""

    def __init__(self, error: DomainError, *, auth_header: str | None) -> None:
        super().__init__(detail=error.detail)
        self.status_code = error.status_code
        self.wait = error.retry_after_seconds
        self.auth_header = auth_header


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render a domain error as it declares, a model-level ValidationError as a 400 with its
    messages and a body too large to read as a 413; defer everything else to DRF (None,
    hence a 500, for unexpected errors)."""
    if isinstance(exc, DOMAIN_ERRORS):
        exc = domain_error_response(exc, context)
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    elif isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    return exception_handler(exc, context)


def domain_error_response(error: DomainError, context: dict[str, Any]) -> DomainErrorResponse:
    """The error as an APIException. A 401 carries the view's WWW-Authenticate challenge, and
    becomes a 403 when the view has none, as DRF does with its own authentication errors."""
    auth_header = None
    if error.status_code == status.HTTP_401_UNAUTHORIZED:
        view, request = context.get("view"), context.get("request")
        if view is not None and request is not None:
            auth_header = view.get_authenticate_header(request)
    response = DomainErrorResponse(error, auth_header=auth_header)
    if response.status_code == status.HTTP_401_UNAUTHORIZED and not auth_header:
        response.status_code = status.HTTP_403_FORBIDDEN
    return response
