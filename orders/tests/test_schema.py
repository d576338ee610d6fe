"""The OpenAPI schema of the orders endpoints generates without warnings."""

from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator


def orders_problems() -> list[str]:
    """Warnings and errors drf-spectacular emitted about orders' code."""
    messages = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    return [m for m in messages if "orders/" in m or "[Order" in m or "[Product" in m]


def test_orders_schema_generates_without_warnings():
    # given the whole project's API (orders shares the schema with accounts)
    GENERATOR_STATS.reset()

    # when the schema is generated
    schema = SchemaGenerator().get_schema(request=None, public=True)

    # then nothing about orders was guessed or clashed, and every endpoint is there
    assert orders_problems() == []
    orders_paths = sorted(p for p in schema["paths"] if p.startswith("/api/orders/"))
    assert orders_paths == [
        "/api/orders/",
        "/api/orders/products/",
        "/api/orders/{order_id}/",
        "/api/orders/{order_id}/cancel/",
    ]
    create = schema["paths"]["/api/orders/"]["post"]
    assert sorted(create["responses"]) == ["201", "400", "401", "403", "409", "413"]
    list_ = schema["paths"]["/api/orders/"]["get"]
    assert sorted(list_["responses"]) == ["200", "401", "403", "404"]
    products = schema["paths"]["/api/orders/products/"]["get"]
    assert sorted(products["responses"]) == ["200", "404"]
    cancel_reason = schema["components"]["schemas"]["Order"]["properties"]["cancel_reason"]
    assert cancel_reason["oneOf"] == [
        {"$ref": "#/components/schemas/CancelReasonEnum"},
        {"$ref": "#/components/schemas/BlankEnum"},
    ]
    # a bearer token or the browsable API's cookie, never a session
    assert create["security"] == [{"jwtStatelessAuth": []}, {"jwtStatelessCookieAuth": []}]
    assert schema["components"]["securitySchemes"]["jwtStatelessCookieAuth"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": "api-access",
    }
    order_id = schema["paths"]["/api/orders/{order_id}/"]["get"]["parameters"][0]
    assert order_id["schema"] == {"type": "integer"}
