"""The Postgres security settings reach the real connection: `DATABASE_SSL_MODE=require`
makes the engine insist on TLS, which the local server does not offer, while the local
default (`prefer`) connects (checked first, so a server that is down cannot pass)."""

import pytest

from auth_service.config import DatabaseSettings
from auth_service.database import UNAVAILABLE_ERRORS, create_engine, ping


async def test_ssl_mode_reaches_the_connection() -> None:
    plain = create_engine(DatabaseSettings(ENVIRONMENT="test"))
    try:
        await ping(plain)
    finally:
        await plain.dispose()
    required = create_engine(DatabaseSettings(ENVIRONMENT="test", DATABASE_SSL_MODE="require"))
    try:
        with pytest.raises(UNAVAILABLE_ERRORS) as refused:
            await ping(required)
        assert "ssl" in repr(refused.value).lower(), refused.value
    finally:
        await required.dispose()
