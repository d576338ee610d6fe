"""accounts API throttles: DRF's scoped throttle per client, rates from the settings."""

from typing import cast

from django.core.exceptions import ImproperlyConfigured
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle


class ScopedClientThrottle(ScopedRateThrottle):
    """DRF's scoped throttle (per user when authenticated, else per client address, as
    ``NUM_PROXIES`` trusted proxies report it), with the rate read from
    ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` on each request rather than once at import,
    so a changed setting applies."""

    def get_rate(self) -> str | None:
        rates = cast(dict[str, str | None], api_settings.DEFAULT_THROTTLE_RATES)
        if self.scope not in rates:
            raise ImproperlyConfigured(
                f"No rate for the throttle scope {self.scope!r}: add it to "
                "REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']."
            )
        return rates[self.scope]
