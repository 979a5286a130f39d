"""One counter per side effect of the auth service."""

from prometheus_client import Counter

USERS_REGISTERED = Counter("auth_users_registered_total", "Users created.")
LOGINS = Counter("auth_logins_total", "Login attempts by outcome.", ["outcome"])
REFRESHES = Counter("auth_token_refreshes_total", "Refresh attempts by outcome.", ["outcome"])
FAMILIES_REVOKED = Counter(
    "auth_refresh_families_revoked_total",
    "Refresh token families (logins) revoked, by reason: reuse of a spent token, or logout.",
    ["reason"],
)
LOGOUTS = Counter("auth_logouts_total", "Logouts: of one login, or of all a user's.", ["scope"])
THROTTLED = Counter("auth_throttled_total", "Attempts refused with 429, by limit.", ["limit"])
# `account`: known, or unknown (checked against a dummy hash, for the same cost).
PASSWORD_VERIFICATIONS = Counter("auth_password_verifications_total", "Argon2 runs.", ["account"])
