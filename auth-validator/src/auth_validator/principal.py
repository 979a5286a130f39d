"""The authenticated caller, as the access token names it."""

import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    """The user an access token was issued to."""

    id: uuid.UUID
    username: str
