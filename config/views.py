"""The API root: a browsable index of both modules' endpoints."""

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView


class ApiRootView(APIView):
    """Start here: each module's endpoints, the schema and the docs."""

    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        def url(name: str) -> str:
            return reverse(name, request=request)

        return Response(
            {
                "accounts": {
                    "register": url("accounts:register"),
                    "login": url("accounts:login"),
                    "token_refresh": url("accounts:token-refresh"),
                    "me": url("accounts:me"),
                },
                "orders": {
                    "products": url("orders:product-list"),
                    "orders": url("orders:order-list"),
                },
                "schema": url("schema"),
                "docs": url("swagger-ui"),
            }
        )
