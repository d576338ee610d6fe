"""The proof app: connects the counting subscribers, nothing else."""

from django.apps import AppConfig


class ProofConfig(AppConfig):
    name = "tests.proof"
    label = "proof"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tests.proof import handlers  # noqa: F401  (connects the subscribers)
