"""bench/http_orders.py only (config.settings.bench_http): the monolith's URLs plus a bare
DRF serializer-and-INSERT endpoint, the baseline POST /api/orders/ is measured against.
Never mounted in production."""

from decimal import Decimal
from typing import Any

from django.urls import path
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as monolith_urlpatterns
from orders.api.serializers import OrderPlaceSerializer
from orders.models import Order


class BareOrderView(APIView):
    """Validate the same body as POST /api/orders/ and INSERT one row: no token, no
    customer check, no lines, no event. What DRF and one insert cost under this server."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        serializer = OrderPlaceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = Order.objects.create(customer_id=1, total=Decimal("0.00"), currency="EUR")
        return Response({"id": order.pk}, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("bench/bare-orders/", BareOrderView.as_view(), name="bench-bare-orders"),
    *monolith_urlpatterns,
]
