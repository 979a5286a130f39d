"""One counter per side effect of the auth service."""

from prometheus_client import Counter

USERS_REGISTERED = Counter("auth_users_registered_total", "Users created.")
LOGINS = Counter("auth_logins_total", "Login attempts by outcome.", ["outcome"])
REFRESHES = Counter("auth_token_refreshes_total", "Refresh attempts by outcome.", ["outcome"])
FAMILIES_REVOKED = Counter(
    "auth_refresh_families_revoked_total", "Token families revoked after a refresh token reuse."
)
