"""The authenticated caller, as the access token names it."""

import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    """The user an access token was issued to, and until when the token is good.

    `expires_at` is the token's verified `exp` (Unix seconds), so a long-lived response
    (an event stream) can end with the token without decoding it again; `issued_at` its
    `iat`, so a service can refuse tokens issued before the user's logout-all.
    """

    id: uuid.UUID
    username: str
    expires_at: float
    issued_at: float = 0.0
