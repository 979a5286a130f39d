"""create_app() and the lifespan: wiring only (the skeleton is chat_common.service_app)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.middleware import Middleware

from auth_service.account_deletion import AccountDeletion, account_router
from auth_service.config import Settings, get_settings
from auth_service.database import UNAVAILABLE_ERRORS, create_engine, create_session_factory, ping
from auth_service.exceptions import DatabaseUnavailable
from auth_service.firebase_accounts import AdminFirebaseAccounts
from auth_service.firebase_tokens import FirebaseTokenMinter, firebase_router
from auth_service.repository import AuthRepository
from auth_service.router import auth_router, keys_router, users_router
from auth_service.security import Passwords, TokenSigner
from auth_service.service import AuthService
from auth_service.throttle import Throttle
from auth_service.user_events import UserEventRelay
from auth_validator import TokenValidator
from chat_common.contract.firestore import async_firestore_client
from chat_common.observability import ReadinessCheck
from chat_common.service_app import ServiceSpec, create_service_app, state_of


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Build the clients onto app.state; the exit stack closes them in reverse."""
    settings = state_of(app, "settings", Settings)
    # Read by the client-address dependency of the rate limits.
    app.state.client_addresses = settings.client_addresses()
    async with AsyncExitStack() as stack:
        signer = TokenSigner.from_settings(settings)
        # Before anything that needs closing: a bad key stops the start with a clear error.
        minter = FirebaseTokenMinter.from_settings(settings)
        app.state.firebase_minter = minter
        if minter is not None:
            stack.callback(minter.close)
        engine = create_engine(settings)
        stack.push_async_callback(engine.dispose)
        sessions = create_session_factory(engine)
        passwords = Passwords.from_settings(settings)
        stack.callback(passwords.close)
        app.state.engine = engine
        app.state.signer = signer
        repository = AuthRepository(sessions)
        throttle = Throttle(repository, settings)
        accounts = None
        if minter is not None:
            accounts = AdminFirebaseAccounts(
                minter.app,
                async_firestore_client(
                    settings.FIRESTORE_PROJECT, settings.FIRESTORE_EMULATOR_HOST
                ),
            )
            stack.callback(accounts.close)
        app.state.firebase_accounts = accounts
        relay = UserEventRelay(
            sessions,
            settings.KAFKA_BOOTSTRAP_SERVERS,
            settings,
            settings.USER_EVENTS_RELAY_INTERVAL_SECONDS,
            settings.USER_EVENTS_TOPIC,
            accounts,
        )
        app.state.auth_service = AuthService(
            repository, passwords, signer, throttle, settings, relay
        )
        # The service verifies its own access tokens with the same library as everyone
        # else, from its own JWKS document (no HTTP round trip to itself).
        validator = TokenValidator(settings.token_checks(), jwks=signer.jwks())
        stack.push_async_callback(validator.aclose)
        app.state.token_validator = validator
        app.state.account_deletion = AccountDeletion(sessions, passwords, throttle, relay)
        relay_task = asyncio.create_task(relay.run(), name="user-event-relay")
        stack.push_async_callback(_stop_relay, relay, relay_task)
        yield


async def _stop_relay(relay: UserEventRelay, task: "asyncio.Task[None]") -> None:
    # Rows not yet published stay in the outbox for the next start (or another replica).
    relay.stop()
    with contextlib.suppress(TimeoutError, asyncio.CancelledError):
        await asyncio.wait_for(task, 5.0)


def checks(app: FastAPI) -> Mapping[str, ReadinessCheck]:
    return {"postgres": lambda: ping(state_of(app, "engine", AsyncEngine))}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # Bearer tokens travel in a header, never cookies: no credentials mode needed.
    cors = Middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
    )
    spec = ServiceSpec(
        name="auth-service",
        summary="Users, passwords and tokens of the chat backend",
        lifespan=lifespan,
        checks=checks,
        routers=[auth_router, users_router, account_router, keys_router, firebase_router],
        # The repository converts Postgres errors itself; this catches what other modules
        # still run on sessions of their own (account deletion, the user-event outbox).
        unavailable=UNAVAILABLE_ERRORS,
        unavailable_detail=DatabaseUnavailable.detail,
        middleware=[cors] if settings.cors_origins else [],
    )
    return create_service_app(spec, settings)
