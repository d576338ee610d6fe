"""/api/auth/login/ of a service that does not log anyone in (orders in split mode).

The browsable API links to ``rest_framework:login``; this service's customers log in on
the accounts service (``API_LOGIN_URL``), which puts the JWT cookie on the shared host and
sends the browser back here (its ``API_LOGIN_REDIRECT_HOSTS`` lists this service).
"""

from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme

app_name = "rest_framework"


def login_elsewhere(request: HttpRequest) -> HttpResponse:
    """Redirect to the accounts service's login, with ``next`` made absolute on this host
    (a ``next`` that leaves this host becomes the API root). A 404 while ``API_LOGIN_URL``
    is unset: there is nowhere to log in."""
    if not settings.API_LOGIN_URL:
        raise Http404("No login is served here: API_LOGIN_URL is not set.")
    next_path = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_path, allowed_hosts={request.get_host()}):
        next_path = "/api/"
    query = urlencode({"next": request.build_absolute_uri(next_path)})
    return HttpResponseRedirect(f"{settings.API_LOGIN_URL}?{query}")


urlpatterns = [path("login/", login_elsewhere, name="login")]
