"""OpenAPI generation: every operation documents the errors its view can answer with.

The project's ``DEFAULT_SCHEMA_CLASS``. Each view still documents its own answers with
``extend_schema``; this class adds, for each error a view's machinery can produce and the
view does not document, a response with a JSON body, derived from the view itself so that a
new endpoint inherits it:

- 400 and 413 where the operation takes a body (validation errors; an oversized body);
- 401 and 403 where the view authenticates (missing or bad credentials; refused);
- 404 where the path has parameters or the list is paginated (``?page=`` out of range), and
  for any address no URL matches (config.errors answers JSON under /api/);
- 429 where the view has DRF throttles.

A documented code without a body gets the generic body, so a description-only
``OpenApiResponse`` still tells a client what it will read.
"""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class ErrorDetailSerializer(serializers.Serializer):
    """An error: one message saying what is wrong and what to do."""

    detail = serializers.CharField(help_text="What went wrong, and what to do about it.")


VALIDATION_ERROR: dict[str, Any] = {
    "type": "object",
    "description": (
        'Messages per field, e.g. `{"email": ["Enter a valid email address."]}`, or '
        '`{"detail": "..."}` when the body as a whole cannot be read.'
    ),
    "additionalProperties": {},
}

DESCRIPTIONS = {
    400: "The request is malformed or a field is invalid; nothing was changed.",
    401: "No credentials, or credentials that are invalid or expired.",
    403: "The credentials are valid but may not do this.",
    404: "Nothing here: an unknown id, a page out of range, or an unknown address.",
    413: "The body is too large; nothing was changed.",
    429: "Too many requests; retry after the `Retry-After` seconds.",
}


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the generic error responses (see the module)."""

    def error_codes(self) -> list[int]:
        """The error statuses this operation's view can answer with by its machinery."""
        codes = []
        if self.method in BODY_METHODS and self.get_request_serializer() is not None:
            codes += [400, 413]
        if self.view.get_authenticators():
            codes += [401, 403]
        paginated = self.method == "GET" and self._is_list_view() and self._get_paginator()
        if "{" in self.path or paginated:
            codes.append(404)
        if self.view.get_throttles():
            codes.append(429)
        return codes

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        undocumented_bodies = [
            int(code)
            for code, response in responses.items()
            if code.isdigit() and int(code) in DESCRIPTIONS and "content" not in response
        ]
        for code in dict.fromkeys([*self.error_codes(), *undocumented_bodies]):
            body = VALIDATION_ERROR if code == 400 else ErrorDetailSerializer
            generic = self._get_response_for_code(
                OpenApiResponse(body, description=DESCRIPTIONS[code]), str(code)
            )
            documented = responses.setdefault(str(code), generic)
            if "content" not in documented:
                documented["content"] = generic["content"]
        return responses
