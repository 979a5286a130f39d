"""Asks the auth service whether a user exists, on behalf of the caller."""

import logging
import uuid

import httpx

from chat_service.domain.errors import AuthServiceUnavailable, CallerRejected

logger = logging.getLogger(__name__)


class UserDirectory:
    """`GET {AUTH_SERVICE_URL}/users/{id}` with the caller's own bearer token."""

    def __init__(self, client: httpx.AsyncClient, base_url: str) -> None:
        self._client = client
        self._base_url = base_url.rstrip("/")

    async def exists(self, user_id: uuid.UUID, bearer_token: str) -> bool:
        """True if the auth service knows the user, False on its 404."""
        try:
            response = await self._client.get(
                f"{self._base_url}/users/{user_id}",
                headers={"Authorization": f"Bearer {bearer_token}"},
            )
        except httpx.HTTPError as exc:
            raise AuthServiceUnavailable(f"auth service unreachable: {exc!r}") from exc
        if response.status_code == 200:
            return True
        if response.status_code == 404:
            return False
        if response.status_code == 401:
            raise CallerRejected("auth service refused the caller's token")
        raise AuthServiceUnavailable(f"auth service answered {response.status_code}")
