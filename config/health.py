"""Liveness and readiness probes for load balancers: plain views, no auth, no throttle.

``/healthz`` answers 200 while the process serves requests and touches nothing else.
``/readyz`` runs the bus's readiness checks and answers 200 when all pass, else 503, with
``{"status": "ok"|"failing", "checks": {name: {"ok": bool, "detail": str}}}``.
"""

from dataclasses import asdict

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from eventbus.operations.health import readiness


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    checks = readiness()
    ok = all(check.ok for check in checks.values())
    return JsonResponse(
        {
            "status": "ok" if ok else "failing",
            "checks": {name: asdict(check) for name, check in checks.items()},
        },
        status=200 if ok else 503,
    )
