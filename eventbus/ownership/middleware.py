"""ViewModuleMiddleware: the request's view names the module running while it is served."""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from eventbus.ownership import guard
from eventbus.ownership.caller import enter_view, request_scope
from eventbus.ownership.owners import current_owners


class ViewModuleMiddleware:
    """While a view of a module serves the request, queries with no module frame of their
    own (DRF running a view's declared ``queryset``) count as that module's.

    Put it last in MIDDLEWARE. Inert while the guard is off: one check per request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with request_scope():
            return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> None:
        if guard.mode() != "off":
            enter_view(view_func, current_owners().prefixes)
