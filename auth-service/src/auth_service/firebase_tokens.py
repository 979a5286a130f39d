"""POST /auth/firebase-token: a Firebase custom token for the caller.

Clients exchange it with Firebase Auth (`signInWithCustomToken`) and then read Firestore
under firestore.rules, where `request.auth.uid` is their user id. In production the token
is signed by IAM signBlob as FIREBASE_SERVICE_ACCOUNT_ID, with the pod's Google identity
(Workload Identity; no key anywhere). Locally it is signed with a service-account key
(FIREBASE_SERVICE_ACCOUNT_FILE or _JSON). With neither the route answers 503 and the rest
of the service works as before.
"""

import asyncio
import json
import uuid
from typing import Annotated, Any

import firebase_admin
from fastapi import APIRouter, Depends, Request, status
from firebase_admin import auth, credentials
from prometheus_client import Counter
from pydantic import BaseModel

from auth_service.config import Settings
from auth_service.dependencies import AuthServiceDep, CurrentPrincipal
from auth_service.exceptions import AuthError
from chat_common.error_model import error_responses

FIREBASE_TOKENS_MINTED = Counter(
    "auth_firebase_tokens_minted_total", "Firebase custom tokens signed for clients."
)

# Firebase fixes a custom token's lifetime at one hour (its maximum); the client exchanges
# it for an ID token at once, and Firebase Auth refreshes that one by itself.
FIREBASE_TOKEN_LIFETIME_SECONDS = 3600


class FirebaseNotConfigured(AuthError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    detail = "Firebase sign-in is not configured on this server"


class FirebaseToken(BaseModel):
    """A Firebase custom token, for `signInWithCustomToken`."""

    token: str
    expires_in: int


def service_account(settings: Settings) -> dict[str, Any] | None:
    """The service-account key from the settings, None when none is configured."""
    if settings.FIREBASE_SERVICE_ACCOUNT_FILE is not None:
        text = settings.FIREBASE_SERVICE_ACCOUNT_FILE.read_text()
        where = str(settings.FIREBASE_SERVICE_ACCOUNT_FILE)
    elif settings.FIREBASE_SERVICE_ACCOUNT_JSON is not None:
        text = settings.FIREBASE_SERVICE_ACCOUNT_JSON.get_secret_value()
        where = "FIREBASE_SERVICE_ACCOUNT_JSON"
    else:
        return None
    try:
        key = json.loads(text)
    except json.JSONDecodeError as exc:
        # Never the text itself in the message: it is a private key.
        raise ValueError(f"{where} is not JSON (line {exc.lineno})") from None
    if not isinstance(key, dict):
        raise ValueError(f"{where} is not a service-account key object")
    return key


class FirebaseTokenMinter:
    """Signs Firebase custom tokens as one service account; `close()` when done."""

    def __init__(self, credential: credentials.Base, options: dict[str, Any] | None = None) -> None:
        # firebase_admin keeps apps in a process-wide registry by name: a unique name per
        # minter, so several apps (tests) never collide; close() takes it out again.
        self.app = firebase_admin.initialize_app(
            credential, options, name=f"firebase-tokens-{uuid.uuid4()}"
        )

    @classmethod
    def from_key(cls, key: dict[str, Any]) -> "FirebaseTokenMinter":
        """Signing locally with the key's private half (local runs)."""
        return cls(credentials.Certificate(key))

    @classmethod
    def through_iam(
        cls, service_account_id: str, project_id: str, credential: credentials.Base | None = None
    ) -> "FirebaseTokenMinter":
        """Signing by IAM signBlob as `service_account_id`, authenticated as the process's
        own identity (Application Default Credentials: Workload Identity in a pod)."""
        options = {"serviceAccountId": service_account_id, "projectId": project_id}
        # ApplicationDefault looks for the identity on first use, not here.
        return cls(credential or credentials.ApplicationDefault(), options)

    @classmethod
    def from_settings(cls, settings: Settings) -> "FirebaseTokenMinter | None":
        if settings.FIREBASE_SERVICE_ACCOUNT_ID:
            return cls.through_iam(settings.FIREBASE_SERVICE_ACCOUNT_ID, settings.FIRESTORE_PROJECT)
        key = service_account(settings)
        return None if key is None else cls.from_key(key)

    async def mint(self, user_id: uuid.UUID) -> FirebaseToken:
        # An RSA signature, off the event loop like every other SDK call.
        token: bytes = await asyncio.to_thread(auth.create_custom_token, str(user_id), app=self.app)
        FIREBASE_TOKENS_MINTED.inc()
        return FirebaseToken(token=token.decode(), expires_in=FIREBASE_TOKEN_LIFETIME_SECONDS)

    def close(self) -> None:
        firebase_admin.delete_app(self.app)


async def get_firebase_minter(request: Request) -> FirebaseTokenMinter:
    minter: FirebaseTokenMinter | None = request.app.state.firebase_minter
    if minter is None:
        raise FirebaseNotConfigured()
    return minter


FirebaseMinterDep = Annotated[FirebaseTokenMinter, Depends(get_firebase_minter)]

firebase_router = APIRouter(prefix="/auth", tags=["auth"])


@firebase_router.post(
    "/firebase-token",
    summary="A Firebase custom token",
    responses=error_responses(
        (401, "Missing or bad token, issued before the last logout-all, or account deleted"),
        (429, "Too many Firebase tokens for this user: see Retry-After"),
        (503, "No Firebase service-account key is configured, or PostgreSQL unavailable"),
    ),
)
async def firebase_token(
    principal: CurrentPrincipal, minter: FirebaseMinterDep, service: AuthServiceDep
) -> FirebaseToken:
    """A Firebase custom token whose `uid` is the caller's user id, for
    `signInWithCustomToken`: Firestore's rules then let the caller read their chats. Only
    for an account that still exists, with an access token newer than its last logout-all."""
    await service.check_session(principal)
    await service.throttle.count_firebase_token(principal.id)
    return await minter.mint(principal.id)
