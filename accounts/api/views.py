"""accounts API views: parse input, call one service or selector, render the result."""

from typing import Any, cast

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import (
    DetailOutputSerializer,
    LoginInputSerializer,
    LoginOutputSerializer,
    ProfileOutputSerializer,
    ProfileUpdateInputSerializer,
    RefreshInputSerializer,
    RegisterInputSerializer,
    TokenErrorOutputSerializer,
    TokenPairOutputSerializer,
    UserOutputSerializer,
)
from accounts.api.throttles import ScopedClientThrottle
from accounts.exceptions import INVALID_CREDENTIALS, TOO_MANY_FAILURES
from accounts.models import User
from accounts.selectors import user_profile_get
from accounts.services.tokens import refresh_token_revoke, refresh_token_rotate, user_login
from accounts.services.users import user_deactivate, user_register, user_update_profile

DEACTIVATED = "Your account has been deactivated; you can no longer log in."


THROTTLED = OpenApiResponse(
    response=DetailOutputSerializer,
    description="Too many requests from this client; see Retry-After (seconds).",
)
BAD_TOKEN = OpenApiResponse(
    response=TokenErrorOutputSerializer,
    description="The refresh token is malformed, expired or blacklisted (used once, logged "
    "out, or its user deactivated), or its user is inactive.",
)


class RefreshTokenView(APIView):
    """A view that takes a refresh token as its credential: no other authentication, and a
    bad token answers 401 with a Bearer challenge (as simplejwt's views do)."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedClientThrottle]
    throttle_scope = "token_refresh"

    def get_authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class RegisterView(APIView):
    """Create an account. Anyone may register, a few times an hour per client."""

    permission_classes = [AllowAny]
    throttle_classes = [ScopedClientThrottle]
    throttle_scope = "register"

    @extend_schema(
        tags=["accounts"],
        request=RegisterInputSerializer,
        responses={
            201: UserOutputSerializer,
            400: OpenApiResponse(description="Invalid input."),
            429: THROTTLED,
        },
        examples=[
            OpenApiExample(
                "A new account",
                value={
                    "username": "ada",
                    "email": "ada@example.com",
                    "password": "correct-horse-battery-staple",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = RegisterInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_register(**serializer.validated_data)
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class LoginView(APIView):
    """Exchange a username and password for an access and a refresh token."""

    permission_classes = [AllowAny]

    @extend_schema(
        tags=["accounts"],
        request=LoginInputSerializer,
        responses={
            200: LoginOutputSerializer,
            400: OpenApiResponse(description="A field is missing or malformed."),
            401: OpenApiResponse(description=INVALID_CREDENTIALS),
            429: OpenApiResponse(description=f"{TOO_MANY_FAILURES} See Retry-After."),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = LoginInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = user_login(
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
            request=request,
        )
        return Response(LoginOutputSerializer(result).data)


class MeView(APIView):
    """The caller's own profile and order statistics; PATCH changes email and names."""

    @extend_schema(tags=["accounts"], responses={200: ProfileOutputSerializer})
    def get(self, request: Request) -> Response:
        user = cast(User, request.user)
        return Response(ProfileOutputSerializer(user_profile_get(user=user)).data)

    @extend_schema(
        tags=["accounts"],
        request=ProfileUpdateInputSerializer,
        responses={
            200: ProfileOutputSerializer,
            400: OpenApiResponse(description="Invalid input."),
        },
        examples=[
            OpenApiExample(
                "New names",
                value={"first_name": "Alice", "last_name": "Liddell"},
                request_only=True,
            )
        ],
    )
    def patch(self, request: Request) -> Response:
        serializer = ProfileUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_update_profile(user=cast(User, request.user), **serializer.validated_data)
        return Response(ProfileOutputSerializer(user_profile_get(user=user)).data)


class MeDeactivateView(APIView):
    """Deactivate the caller's account: no more logins, and existing tokens stop working."""

    @extend_schema(tags=["accounts"], request=None, responses={200: DetailOutputSerializer})
    def post(self, request: Request) -> Response:
        user_deactivate(user=cast(User, request.user), reason="self_service")
        return Response({"detail": DEACTIVATED})


def refresh_token_schema(success: Any, status_code: int = 200) -> Any:
    """The OpenAPI description of an endpoint that takes a refresh token: ``success`` under
    ``status_code``, and the errors every such endpoint shares."""
    return extend_schema(
        tags=["accounts"],
        request=RefreshInputSerializer,
        responses={
            status_code: success,
            400: OpenApiResponse(description="The refresh field is missing or malformed."),
            401: BAD_TOKEN,
            429: THROTTLED,
        },
    )


class RefreshView(RefreshTokenView):
    """Exchange a refresh token for a new access token and a new refresh token; the one sent
    is blacklisted and cannot be used again."""

    @refresh_token_schema(TokenPairOutputSerializer)
    def post(self, request: Request) -> Response:
        serializer = RefreshInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = refresh_token_rotate(refresh=serializer.validated_data["refresh"])
        return Response(TokenPairOutputSerializer(pair).data)


class LogoutView(RefreshTokenView):
    """Log out: blacklist the refresh token sent. Access tokens already issued expire on
    their own (minutes)."""

    @refresh_token_schema(OpenApiResponse(description="The refresh token is blacklisted."), 204)
    def post(self, request: Request) -> Response:
        serializer = RefreshInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        refresh_token_revoke(refresh=serializer.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)
