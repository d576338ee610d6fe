"""URLs of the accounts API (mounted at /api/accounts/)."""

from django.urls import URLPattern, path

from accounts.api.views import (
    LoginView,
    LogoutView,
    MeDeactivateView,
    MeView,
    RefreshView,
    RegisterView,
)

app_name = "accounts"

urlpatterns: list[URLPattern] = [
    path("register/", RegisterView.as_view(), name="register"),
    path("login/", LoginView.as_view(), name="login"),
    path("token/refresh/", RefreshView.as_view(), name="token-refresh"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("me/", MeView.as_view(), name="me"),
    path("me/deactivate/", MeDeactivateView.as_view(), name="me-deactivate"),
]
