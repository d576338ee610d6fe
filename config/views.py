"""The API root: a browsable index of the endpoints this deployment serves."""

from django.urls import NoReverseMatch
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

SECTIONS = {
    "accounts": {
        "register": "accounts:register",
        "login": "accounts:login",
        "token_refresh": "accounts:token-refresh",
        "me": "accounts:me",
    },
    "orders": {"products": "orders:product-list", "orders": "orders:order-list"},
}


class ApiRootView(APIView):
    """Start here: each module's endpoints (those served here), the schema and the docs."""

    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        index: dict[str, object] = {}
        for section, names in SECTIONS.items():
            try:
                index[section] = {
                    key: reverse(name, request=request) for key, name in names.items()
                }
            except NoReverseMatch:  # a split-mode service serves one module only
                continue
        index["schema"] = reverse("schema", request=request)
        index["docs"] = reverse("swagger-ui", request=request)
        return Response(index)
