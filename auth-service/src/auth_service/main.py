"""create_app() and the lifespan: wiring only."""

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from auth_service.config import Settings, get_settings
from auth_service.database import create_engine, create_session_factory, ping
from auth_service.exceptions import register_error_handler
from auth_service.firebase_tokens import FirebaseTokenMinter, firebase_router
from auth_service.router import auth_router, keys_router, users_router
from auth_service.security import Passwords, TokenSigner
from auth_service.service import AuthService
from auth_service.throttle import Throttle
from auth_validator import TokenValidator, ValidatorSettings
from chat_common.logs import configure_logging
from chat_common.observability import ReadinessCheck, docs_options, instrument


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging("auth-service", settings.LOG_LEVEL)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        signer = TokenSigner.from_settings(settings)
        # Before anything that needs closing: a bad key stops the start with a clear error.
        app.state.firebase_minter = FirebaseTokenMinter.from_settings(settings)
        engine = create_engine(settings)
        sessions = create_session_factory(engine)
        passwords = Passwords.from_settings(settings)
        app.state.engine = engine
        app.state.signer = signer
        app.state.auth_service = AuthService(
            sessions,
            passwords,
            signer,
            Throttle.from_settings(sessions, settings),
            settings.ACCESS_TOKEN_TTL_SECONDS,
            settings.REFRESH_TOKEN_TTL_SECONDS,
            settings.REFRESH_SESSION_LIFETIME_SECONDS,
        )
        # The service verifies its own access tokens with the same library as everyone
        # else, from its own JWKS document (no HTTP round trip to itself).
        app.state.token_validator = TokenValidator(
            ValidatorSettings(
                AUTH_ISSUER=settings.JWT_ISSUER,
                AUTH_AUDIENCE=settings.JWT_AUDIENCE,
                AUTH_LEEWAY_SECONDS=settings.JWT_LEEWAY_SECONDS,
            ),
            jwks=signer.jwks(),
        )
        try:
            yield
        finally:
            await app.state.token_validator.aclose()
            await engine.dispose()
            passwords.close()
            if app.state.firebase_minter is not None:
                app.state.firebase_minter.close()

    app = FastAPI(
        title="auth-service",
        summary="Users, passwords and tokens of the chat backend",
        lifespan=lifespan,
        **docs_options(settings),
    )
    # Read by the client-address dependency of the rate limits.
    app.state.trust_forwarded_for = settings.TRUST_X_FORWARDED_FOR
    app.include_router(auth_router)
    app.include_router(users_router)
    app.include_router(keys_router)
    app.include_router(firebase_router)
    register_error_handler(app)
    if settings.cors_origins:
        # Bearer tokens travel in a header, never cookies: no credentials mode needed.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )

    def checks() -> Mapping[str, ReadinessCheck]:
        return {"postgres": lambda: ping(app.state.engine)}

    instrument(app, checks, settings)
    return app
