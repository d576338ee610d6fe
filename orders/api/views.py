"""Views of the orders API: authenticate, validate, call one service or selector, serialise.

Customer views authenticate with a stateless JWT only, sent as a bearer header or, from the
browsable API, as a cookie with a CSRF token (no database lookup of the user: the
account lives in another module, possibly another service) and read nothing of the user
but its id. A session is never a customer: the session user of the admin is another kind
of user (in split mode, orders' own staff), whose id would name someone else's orders.
A customer whose replica says deactivated gets 403 on every request. Service errors
propagate: each declares its status code (orders.exceptions), which config.exceptions
renders.
"""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import exceptions, serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication

from config.authentication import JWTStatelessCookieAuthentication
from orders import selectors, services
from orders.api import schema  # noqa: F401  (registers the OpenAPI auth scheme)
from orders.api.serializers import (
    ErrorSerializer,
    OrderPlaceSerializer,
    OrderSerializer,
    ProductSerializer,
    order_representation,
)
from orders.models import CancelReason, Order


def caller_customer_id(request: Request) -> int:
    """The authenticated caller's id (the token's ``user_id`` claim), as an int."""
    try:
        customer_id = int(request.user.pk or 0)
    except (TypeError, ValueError):
        customer_id = 0
    if not 0 < customer_id < 2**63:
        raise exceptions.AuthenticationFailed(
            "The token's user id is not a positive integer; sign in again to get a valid token."
        )
    return customer_id


class NotDeactivated(BasePermission):
    """The caller is not a customer that orders knows to be deactivated.

    Passes without a query for the methods a view lists in ``deactivated_checked_in``:
    their handlers answer it themselves, with the same 403.
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in getattr(view, "deactivated_checked_in", ()):
            return True
        selectors.customer_require_not_deactivated(customer_id=caller_customer_id(request))
        return True


class CustomerAPIView(APIView):
    """Base of the customer-facing views: a stateless JWT, as a bearer header or as the
    browsable API's cookie (with DRF's CSRF check), never a session."""

    authentication_classes = [JWTStatelessUserAuthentication, JWTStatelessCookieAuthentication]
    permission_classes = [IsAuthenticated, NotDeactivated]


ORDER_ID = OpenApiParameter("order_id", int, OpenApiParameter.PATH, description="The order's id.")
ERRORS_401 = OpenApiResponse(ErrorSerializer, description="No or invalid credentials.")
ERRORS_403 = OpenApiResponse(ErrorSerializer, description="The customer is deactivated.")
ERRORS_404 = OpenApiResponse(ErrorSerializer, description="Not one of the caller's orders.")


@extend_schema(tags=["orders"])
class ProductListView(ListAPIView):
    """The catalogue: active products by SKU, paginated. Open to anyone, no credentials."""

    authentication_classes = []
    permission_classes = [AllowAny]
    serializer_class = ProductSerializer

    def get_queryset(self) -> QuerySet:
        return selectors.product_list_active()


@extend_schema(tags=["orders"])
class OrderListCreateView(CustomerAPIView, ListAPIView):
    """The caller's orders, newest first (paginated); POST places a new one."""

    serializer_class = OrderSerializer

    # order_place reads the replica under lock anyway: a placed order needs no query of
    # its own for "not deactivated", a failed one is checked in post().
    deactivated_checked_in = ("POST",)

    def get_serializer_class(self) -> type[serializers.Serializer]:
        # The browsable API builds its POST form from this: offer the input shape there.
        return OrderPlaceSerializer if self.request.method == "POST" else OrderSerializer

    def get_queryset(self) -> QuerySet[Order]:
        if getattr(self, "swagger_fake_view", False):  # schema generation, no user
            return Order.objects.none()
        return selectors.order_list_for_customer(customer_id=caller_customer_id(self.request))

    @extend_schema(
        summary="List my orders",
        responses={200: OrderSerializer(many=True), 401: ERRORS_401, 403: ERRORS_403},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Place an order",
        request=OrderPlaceSerializer,
        examples=[
            OpenApiExample(
                "Two mugs and a book",
                value={
                    "lines": [{"sku": "MUG-001", "quantity": 2}, {"sku": "BOOK-001", "quantity": 1}]
                },
                request_only=True,
            )
        ],
        responses={
            201: OrderSerializer,
            400: OpenApiResponse(
                description=(
                    "Per-field messages, e.g. "
                    '`{"lines": {"0": {"sku": ["Unknown or inactive product \'X\'."]}}}`: '
                    "no lines, more than 100, quantity outside 1..1000, unknown or inactive "
                    "SKU, a SKU twice, mixed currencies."
                )
            ),
            401: ERRORS_401,
            403: ERRORS_403,
            409: OpenApiResponse(
                ErrorSerializer,
                description=(
                    "orders does not know the customer yet (its replica has not arrived); "
                    "retry after the `Retry-After` seconds."
                ),
            ),
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        customer_id = caller_customer_id(request)
        try:
            serializer = OrderPlaceSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            order = services.order_place(customer_id=customer_id, lines=serializer.order_lines())
        except Exception:
            # A deactivated customer hears 403 before anything else, as NotDeactivated
            # answers on the other views; only a failure needs the check, since a placed
            # order proves the replica active (order_place raises CustomerInactive).
            selectors.customer_require_not_deactivated(customer_id=customer_id)
            raise
        location = reverse("orders:order-detail", kwargs={"order_id": order.pk}, request=request)
        return Response(
            order_representation(order),
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )


@extend_schema(tags=["orders"])
class OrderDetailView(CustomerAPIView):
    """One of the caller's orders; another customer's order is a 404."""

    @extend_schema(
        summary="Show one of my orders",
        parameters=[ORDER_ID],
        responses={200: OrderSerializer, 401: ERRORS_401, 403: ERRORS_403, 404: ERRORS_404},
    )
    def get(self, request: Request, order_id: int) -> Response:
        order = selectors.order_get_for_customer(
            order_id=order_id, customer_id=caller_customer_id(request)
        )
        return Response(order_representation(order))


@extend_schema(tags=["orders"])
class OrderCancelView(CustomerAPIView):
    """Cancel one of the caller's orders while it is placed or paid."""

    @extend_schema(
        summary="Cancel one of my orders",
        parameters=[ORDER_ID],
        request=None,
        responses={
            200: OrderSerializer,
            401: ERRORS_401,
            403: ERRORS_403,
            404: ERRORS_404,
            409: OpenApiResponse(
                ErrorSerializer, description="The order is shipped or already cancelled."
            ),
        },
    )
    def post(self, request: Request, order_id: int) -> Response:
        order = services.order_cancel(
            order_id=order_id,
            customer_id=caller_customer_id(request),
            reason=CancelReason.CUSTOMER_REQUEST,
        )
        return Response(order_representation(order))
