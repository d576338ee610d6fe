"""The bus's optional dependencies: the extra of the distribution that brings each one, and
the error that names it when a feature needs a package that is not installed.

The bus itself needs Django, blinker and pydantic only; RabbitMQ, Prometheus metrics,
progress bars, tracing and the extraction report each come with an extra (``pip install 'django-eventbus-outbox[amqp]'``).
"""

from django.core.exceptions import ImproperlyConfigured

#: The name the bus is installed under (packages/eventbus/pyproject.toml).
DISTRIBUTION = "django-eventbus-outbox"

#: Each optional package, by import name: (its name on PyPI, the extra that installs it).
EXTRAS = {
    "kombu": ("kombu", "amqp"),
    "prometheus_client": ("prometheus-client", "metrics"),
    "tqdm": ("tqdm", "progress"),
    "opentelemetry": ("opentelemetry-api", "tracing"),
    "grimp": ("grimp", "extraction"),
}


def missing_extra(module: str, *, needed_for: str) -> ImproperlyConfigured:
    """The error to raise when ``needed_for`` (a phrase: "the amqp transport") needs the
    optional package ``module`` (an import name in EXTRAS) and it is not installed."""
    package, extra = EXTRAS[module]
    return ImproperlyConfigured(
        f"{needed_for} needs {package}, which is not installed; install the bus with its "
        f"{extra!r} extra: pip install '{DISTRIBUTION}[{extra}]'."
    )
