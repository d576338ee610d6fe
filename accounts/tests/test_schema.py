"""OpenAPI: the accounts endpoints generate a schema without warnings, with their shapes."""

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator


@pytest.fixture
def schema_and_messages() -> tuple[dict, list[str]]:
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    messages = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    GENERATOR_STATS.reset()
    return schema, messages


def test_accounts_schema_has_no_warnings(schema_and_messages: tuple[dict, list[str]]) -> None:
    # given
    _, messages = schema_and_messages

    # then
    assert [m for m in messages if "/accounts/" in m] == []


def test_accounts_schema_describes_every_endpoint(
    schema_and_messages: tuple[dict, list[str]],
) -> None:
    # given
    schema, _ = schema_and_messages
    paths = schema["paths"]

    # then
    assert {p: sorted(paths[p]) for p in paths if p.startswith("/api/accounts/")} == {
        "/api/accounts/register/": ["post"],
        "/api/accounts/login/": ["post"],
        "/api/accounts/token/refresh/": ["post"],
        "/api/accounts/logout/": ["post"],
        "/api/accounts/me/": ["get", "patch"],
        "/api/accounts/me/deactivate/": ["post"],
    }
    login = paths["/api/accounts/login/"]["post"]
    assert sorted(login["responses"]) == ["200", "400", "401", "403", "413", "429"]
    refresh = paths["/api/accounts/token/refresh/"]["post"]
    assert sorted(refresh["responses"]) == ["200", "400", "401", "413", "429"]
    assert refresh["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TokenPairOutput"
    }
    me = paths["/api/accounts/me/"]
    assert sorted(me["get"]["responses"]) == ["200", "401", "403"]
    assert sorted(me["patch"]["responses"]) == ["200", "400", "401", "403", "413"]
    assert login["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/LoginOutput"
    }
    register = paths["/api/accounts/register/"]["post"]
    # 401/403: a bad bearer token or a session without CSRF is refused even here.
    assert sorted(register["responses"]) == ["201", "400", "401", "403", "413", "429"]
    for path in ("/api/accounts/token/refresh/", "/api/accounts/logout/"):
        assert sorted(paths[path]["post"]["responses"])[1:] == ["400", "401", "413", "429"]
    refresh = paths["/api/accounts/token/refresh/"]["post"]["responses"]["200"]
    assert refresh["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TokenPairOutput"
    }
    assert "204" in paths["/api/accounts/logout/"]["post"]["responses"]
    assert register["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/UserOutput"
    }
