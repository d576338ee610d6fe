"""Split mode: the accounts service (accounts + eventbus, its own database, RabbitMQ).

It signs tokens (RS256, private key) and takes orders' events from its queue.
"""

from .base import *  # noqa: F403
from .base import EVENTBUS, SIMPLE_JWT
from .hardening import *  # noqa: F403
from .hardening import secret_key
from .service import service_settings
from .serving import *  # noqa: F403

_service = service_settings("accounts", SIMPLE_JWT)
INSTALLED_APPS = _service["INSTALLED_APPS"]
ROOT_URLCONF = _service["ROOT_URLCONF"]
DEBUG = _service["DEBUG"]
SECRET_KEY = secret_key(debug=DEBUG)
ALLOWED_HOSTS = _service["ALLOWED_HOSTS"]
LOGGING = _service["LOGGING"]
SIMPLE_JWT = _service["SIMPLE_JWT"]
EVENTBUS = {**EVENTBUS, "TRANSPORT": "amqp"}
