"""The browsable API's login and logout (mounted at /api/auth/), under DRF's namespace so its
pages link to them."""

from django.urls import path

from accounts.api.browser import BrowserLoginView, BrowserLogoutView

app_name = "rest_framework"

urlpatterns = [
    path("login/", BrowserLoginView.as_view(), name="login"),
    path("logout/", BrowserLogoutView.as_view(), name="logout"),
]
