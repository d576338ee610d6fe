"""What every served settings module shares (production and the split services): static
files with compressed, hashed names, collected by ``collectstatic`` and served by whitenoise.

Pages name ``admin/css/base.<hash>.css``, so a file can be cached as immutable and a new
release is never hidden behind an old copy. The manifest exists only after
``collectstatic`` (``make serve`` and ``make split`` run it): without it a page that names a
static file fails, rather than serve unstyled.
"""

__all__ = ["STORAGES"]

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
