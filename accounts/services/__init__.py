"""accounts writes, one module per concern; this package re-exports their public API.

- ``users``: the user lifecycle (register, update the profile, deactivate, grant staff).
- ``tokens``: logging in with a username and password for a pair of JWTs; refresh-token
  rotation, logout and revocation.
- ``order_records``: the read model of orders kept from orders' events.
"""

from accounts.services.order_records import (
    order_record_apply_cancelled,
    order_record_apply_placed,
)
from accounts.services.tokens import (
    LoginResult,
    TokenPair,
    refresh_token_revoke,
    refresh_token_rotate,
    refresh_tokens_revoke_all,
    user_login,
)
from accounts.services.users import (
    DEACTIVATION_REASONS,
    PASSWORD_MAX_LENGTH,
    DeactivationReason,
    user_deactivate,
    user_grant_staff,
    user_register,
    user_update_profile,
)

__all__ = [
    "DEACTIVATION_REASONS",
    "PASSWORD_MAX_LENGTH",
    "DeactivationReason",
    "LoginResult",
    "TokenPair",
    "order_record_apply_cancelled",
    "order_record_apply_placed",
    "refresh_token_revoke",
    "refresh_token_rotate",
    "refresh_tokens_revoke_all",
    "user_deactivate",
    "user_grant_staff",
    "user_login",
    "user_register",
    "user_update_profile",
]
