"""OpenAPI extensions of the orders API: its stateless JWT scheme under its own name.

orders verifies tokens without looking the user up (JWTStatelessUserAuthentication), while
accounts uses JWTAuthentication; drf-spectacular names both "jwtAuth" and warns about the
clash, so the stateless one is published as "jwtStatelessAuth" (the same bearer token).
"""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTStatelessUserScheme


class StatelessJWTScheme(SimpleJWTStatelessUserScheme):
    name = "jwtStatelessAuth"
    priority = 1
