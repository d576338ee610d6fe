"""The browsable API's login and logout: the customer's JWTs in cookies, not a session.

A browser cannot send a bearer header, so logging in here issues the same pair of tokens as
``POST /api/accounts/login/`` (through the same service: django-axes counts the attempt,
``accounts.user_logged_in`` is published) and hands them over as HttpOnly, SameSite=Lax
cookies (``accounts.api.cookies``). Every service that verifies tokens reads the access
cookie (``config.authentication``), with DRF's CSRF check; orders does so with the public
key alone, on its own port of the same host in split mode. No Django session is made, so
the admin's session and a customer's login never stand in for one another.
"""

import contextlib
from typing import Any

from django.conf import settings
from django.contrib.auth import logout as session_logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import rotate_token

from accounts.api.cookies import jwt_cookies_delete, jwt_cookies_set, refresh_cookie_value
from accounts.exceptions import InvalidCredentials, InvalidRefreshToken, LoginThrottled
from accounts.services.tokens import refresh_token_revoke, refresh_token_rotate, user_login


class BrowserLoginForm(AuthenticationForm):
    """Django's login fields, without their check: the view asks the accounts service,
    which counts the attempt and publishes the login, as the API's login does."""

    def clean(self) -> dict[str, Any]:
        return self.cleaned_data


class BrowserLoginView(auth_views.LoginView):
    """DRF's login page; a good password sets the JWT cookies and redirects to ``next``.

    A wrong password shows the form again with the API's message; a locked-out username is
    answered by django-axes' lockout page (429), as on the admin's login.
    """

    template_name = "rest_framework/login.html"
    form_class = BrowserLoginForm
    next_page = "api-root"

    def get_success_url_allowed_hosts(self, request: HttpRequest | None = None) -> set[str]:
        # In split mode, ``next`` may lead back to another service of the same site (orders'
        # browsable API sends its customers here): API_LOGIN_REDIRECT_HOSTS names them.
        return {*super().get_success_url_allowed_hosts(request), *settings.API_LOGIN_REDIRECT_HOSTS}

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """With a valid refresh cookie (the access cookie lives 15 minutes, the refresh one
        days), log in again without the form: rotate the refresh token, as
        ``POST /api/accounts/token/refresh/`` does, and redirect to ``next``."""
        refresh = refresh_cookie_value(request)
        if refresh:
            try:
                pair = refresh_token_rotate(refresh=refresh)
            except InvalidRefreshToken:
                pass
            else:
                return self._logged_in(access=pair.access, refresh=pair.refresh)
        return super().get(request, *args, **kwargs)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        try:
            result = user_login(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                request=self.request,
            )
        except (InvalidCredentials, LoginThrottled) as exc:
            form.add_error(None, str(exc))
            return self.form_invalid(form)
        return self._logged_in(access=result.access, refresh=result.refresh)

    def _logged_in(self, *, access: str, refresh: str) -> HttpResponse:
        # A new CSRF secret for the new identity, as Django's login() rotates it.
        rotate_token(self.request)
        response = HttpResponseRedirect(self.get_success_url())
        jwt_cookies_set(response, access=access, refresh=refresh)
        return response


class BrowserLogoutView(auth_views.LogoutView):
    """POST only (with the CSRF token): blacklist the refresh token in the cookie, delete
    both JWT cookies, end any Django session, then redirect to ``next`` (else the API root).

    A refresh cookie that is already invalid (expired, blacklisted) still logs out."""

    next_page = "api-root"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refresh = refresh_cookie_value(request)
        if refresh:
            with contextlib.suppress(InvalidRefreshToken):
                refresh_token_revoke(refresh=refresh)
        session_logout(request)
        response = HttpResponseRedirect(self.get_success_url())
        jwt_cookies_delete(response)
        return response
