"""The schema class documents the errors a view's machinery can answer with, for any view."""

from typing import Any

from django.urls import path
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from config.schema import DESCRIPTIONS, VALIDATION_ERROR

ERROR_DETAIL = {"$ref": "#/components/schemas/ErrorDetail"}


class NameSerializer(serializers.Serializer):
    name = serializers.CharField()


class SomeThrottle(AnonRateThrottle):
    rate = "1000/minute"


class OpenBodyView(APIView):
    """No authentication, a body, a DRF throttle."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [SomeThrottle]

    @extend_schema(request=NameSerializer, responses={201: NameSerializer})
    def post(self, request: Request) -> Response:
        return Response(status=201)


class ItemView(APIView):
    """The project's default authentication, a path parameter, one documented error."""

    @extend_schema(
        responses={200: NameSerializer, 401: OpenApiResponse(description="Sign in first.")}
    )
    def get(self, request: Request, item_id: int) -> Response:
        return Response()


class PagedView(ListAPIView):
    """An open, paginated list."""

    authentication_classes = []
    permission_classes = [AllowAny]
    serializer_class = NameSerializer
    queryset: Any = []


def operations() -> dict[str, dict[str, Any]]:
    patterns = [
        path("open/", OpenBodyView.as_view()),
        path("items/<int:item_id>/", ItemView.as_view()),
        path("paged/", PagedView.as_view()),
    ]
    schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)
    return {
        f"{method.upper()} {route}": operation["responses"]
        for route, methods in schema["paths"].items()
        for method, operation in methods.items()
    }


def body(response: dict[str, Any]) -> Any:
    return response["content"]["application/json"]["schema"]


def test_each_view_gets_the_errors_its_machinery_can_answer_with() -> None:
    # when
    responses = operations()

    # then
    assert {name: sorted(codes) for name, codes in responses.items()} == {
        "POST /open/": ["201", "400", "413", "429"],
        "GET /items/{item_id}/": ["200", "401", "403", "404"],
        "GET /paged/": ["200", "404"],
    }


def test_the_generic_errors_have_json_bodies_and_descriptions() -> None:
    # when
    open_body = operations()["POST /open/"]

    # then
    assert body(open_body["400"]) == VALIDATION_ERROR
    assert open_body["400"]["description"] == DESCRIPTIONS[400]
    assert body(open_body["429"]) == ERROR_DETAIL
    assert open_body["429"]["description"] == DESCRIPTIONS[429]


def test_a_documented_error_keeps_its_description_and_gets_the_generic_body() -> None:
    # when
    item = operations()["GET /items/{item_id}/"]

    # then
    assert item["401"] == {"description": "Sign in first.", "content": item["401"]["content"]}
    assert body(item["401"]) == ERROR_DETAIL
    assert body(item["404"]) == ERROR_DETAIL
