"""Split mode: the orders service (orders + eventbus, its own database, RabbitMQ).

It verifies tokens with the public key alone and never looks a user up: the customer is
the token's user id. Its admin has its own staff users (django.contrib.auth's User).
"""

from .base import *  # noqa: F403
from .base import EVENTBUS, SIMPLE_JWT
from .hardening import *  # noqa: F403
from .hardening import secret_key
from .service import service_settings
from .serving import *  # noqa: F403

_service = service_settings("orders", SIMPLE_JWT)
INSTALLED_APPS = _service["INSTALLED_APPS"]
ROOT_URLCONF = _service["ROOT_URLCONF"]
DEBUG = _service["DEBUG"]
SECRET_KEY = secret_key(debug=DEBUG)
ALLOWED_HOSTS = _service["ALLOWED_HOSTS"]
LOGGING = _service["LOGGING"]
SIMPLE_JWT = _service["SIMPLE_JWT"]
AUTH_USER_MODEL = "auth.User"
# Its admin's staff users are django.contrib.auth's, whose usernames compare exactly.
AXES_USERNAME_CALLABLE = None
EVENTBUS = {**EVENTBUS, "TRANSPORT": "amqp"}
