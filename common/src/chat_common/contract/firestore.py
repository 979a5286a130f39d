"""The one Firestore client factory: production Firestore, or an emulator by its address.

google-cloud-firestore switches to an emulator only through the FIRESTORE_EMULATOR_HOST
environment variable, read when a client is built. Writing that variable would change
every client of the process (and anything it starts), so instead the client is built
with anonymous credentials and then given the emulator address the way the variable
would: the library's own emulator path (plain gRPC, the emulator's `Bearer owner`
metadata) then serves this client alone, and the environment is left as it was.
"""

from google.auth.credentials import AnonymousCredentials
from google.cloud.firestore import AsyncClient, Client


def _emulator_credentials(emulator_host: str) -> AnonymousCredentials | None:
    # The emulator needs no credentials; production uses the ambient ones (None).
    return AnonymousCredentials() if emulator_host else None  # type: ignore[no-untyped-call]


def _point_at(client: Client | AsyncClient, emulator_host: str) -> None:
    # `_emulator_host` is what the library sets from FIRESTORE_EMULATOR_HOST; setting it
    # from the settings also means an unset setting wins over a stray variable.
    client._emulator_host = emulator_host or None


def firestore_client(project: str, emulator_host: str = "") -> Client:
    """A synchronous client (the only kind with query listeners) of `project`.

    `emulator_host` (`host:port`) targets that emulator; empty means production Firestore
    with the ambient Google credentials.
    """
    client = Client(project=project, credentials=_emulator_credentials(emulator_host))
    _point_at(client, emulator_host)
    return client


def async_firestore_client(project: str, emulator_host: str = "") -> AsyncClient:
    """An asyncio client of `project`; `emulator_host` as for `firestore_client`."""
    client = AsyncClient(project=project, credentials=_emulator_credentials(emulator_host))
    _point_at(client, emulator_host)
    return client
