"""Benchmark of auth: token verification cost and login latency (prints figures, asserts nothing).

Run (PostgreSQL on 127.0.0.1:5432 for the login part; uses its own database `chat_bench`):
    /work/main/.venv/bin/python bench/auth/bench_auth.py [--tokens 10000] [--logins 50]

Prints the median per-token cost of auth_validator's `verify` (keys cached after one JWKS
fetch) next to a bare PyJWT decode of the same tokens in the same run, and the latency of
POST /auth/login (in-process ASGI, real Postgres) at the configured Argon2 parameters.
"""

import argparse
import asyncio
import gc
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import jwt
from asgi_lifespan import LifespanManager

from auth_service.config import Settings
from auth_service.keys import generate
from auth_service.main import create_app
from auth_service.migrate import migrate
from auth_service.security import Passwords, TokenSigner, load_private_key
from auth_validator import TokenValidator, ValidatorSettings

BENCH_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/chat_bench"
JWKS_URL = "http://auth.bench/.well-known/jwks.json"


def micros(samples_ns: list[int]) -> tuple[float, float]:
    ordered = sorted(samples_ns)
    return statistics.median(ordered) / 1000, ordered[int(len(ordered) * 0.99) - 1] / 1000


async def _timed(call: Awaitable[object]) -> int:
    started = time.perf_counter_ns()
    await call
    return time.perf_counter_ns() - started


async def verification_figures(settings: Settings, count: int = 10_000) -> dict[str, float]:
    """Median cost per token (µs) of auth_validator.verify and of a bare PyJWT decode.

    Keys (flat, for the bench report): `auth.verify.bare_us` (jwt.decode with the key at
    hand), `auth.verify.new_token_us` (a token the validator has not seen: full check, then
    cached), `auth.verify.seen_token_us` (the same tokens again: cache hits),
    `auth.verify.uncached_us` (the validator with its cache off, i.e. before the cache),
    `auth.verify.new_vs_bare` and `auth.verify.uncached_vs_bare` (ratios), and
    `auth.verify.jwks_fetches`. Each token is timed through every path in turn, so drift
    in the machine's speed affects all of them alike.
    """
    signer = TokenSigner.from_settings(settings)
    now = datetime.now(UTC)
    tokens = [signer.access_token(uuid.uuid4(), f"user{i}", now) for i in range(count)]
    jwks = signer.jwks()
    fetches = 0

    def serve_jwks(request: httpx.Request) -> httpx.Response:
        nonlocal fetches
        fetches += 1
        return httpx.Response(200, json=jwks)

    http = httpx.AsyncClient(transport=httpx.MockTransport(serve_jwks))
    cached = TokenValidator(ValidatorSettings(AUTH_JWKS_URL=JWKS_URL), http)
    uncached = TokenValidator(
        ValidatorSettings(AUTH_JWKS_URL=JWKS_URL, AUTH_TOKEN_CACHE_SIZE=0), http
    )
    # The JWKS fetch of each validator happens here, outside the timed calls.
    warm = signer.access_token(uuid.uuid4(), "warm", now)
    await cached.verify(warm)
    await uncached.verify(warm)
    public_key = load_private_key(
        Path(str(settings.JWT_PRIVATE_KEY_FILE)).read_bytes()
    ).public_key()

    def bare(token: str) -> object:
        return jwt.decode(
            token,
            public_key,
            algorithms=["EdDSA"],
            audience=settings.JWT_AUDIENCE,
            issuer=settings.JWT_ISSUER,
        )

    samples: dict[str, list[int]] = {"bare": [], "new": [], "seen": [], "uncached": []}
    gc.disable()  # a collection in one path's timing would be charged to it alone
    try:
        for token in tokens:
            started = time.perf_counter_ns()
            bare(token)
            samples["bare"].append(time.perf_counter_ns() - started)
            samples["new"].append(await _timed(cached.verify(token)))
            samples["uncached"].append(await _timed(uncached.verify(token)))
        for token in tokens:
            samples["seen"].append(await _timed(cached.verify(token)))
    finally:
        gc.enable()
    await cached.aclose()
    await uncached.aclose()
    await http.aclose()

    medians = {name: micros(values)[0] for name, values in samples.items()}
    return {
        "auth.verify.bare_us": medians["bare"],
        "auth.verify.new_token_us": medians["new"],
        "auth.verify.seen_token_us": medians["seen"],
        "auth.verify.uncached_us": medians["uncached"],
        "auth.verify.new_vs_bare": medians["new"] / medians["bare"],
        "auth.verify.uncached_vs_bare": medians["uncached"] / medians["bare"],
        "auth.verify.jwks_fetches": float(fetches),
    }


async def bench_verification(settings: Settings, count: int) -> None:
    figures = await verification_figures(settings, count)
    print(f"token verification over {count} distinct tokens (median per token)")
    print(f"  bare jwt.decode                 {figures['auth.verify.bare_us']:8.1f} us")
    print(
        f"  verify, new token               {figures['auth.verify.new_token_us']:8.1f} us"
        f"   {figures['auth.verify.new_vs_bare']:.3f}x bare (target <= 1.05x)"
    )
    print(
        f"  verify, token seen before       {figures['auth.verify.seen_token_us']:8.1f} us"
        "   (target <= 10 us)"
    )
    print(
        f"  verify, cache off (before)      {figures['auth.verify.uncached_us']:8.1f} us"
        f"   {figures['auth.verify.uncached_vs_bare']:.3f}x bare"
    )


async def bench_login(settings: Settings, count: int) -> None:
    print(
        f"login latency, Argon2id t={settings.ARGON2_TIME_COST} "
        f"m={settings.ARGON2_MEMORY_COST_KIB} KiB p={settings.ARGON2_PARALLELISM}"
    )
    passwords = Passwords.from_settings(settings)
    stored = await passwords.hash("bench password")
    hash_ns = []
    for _ in range(10):
        started = time.perf_counter_ns()
        await passwords.verify("bench password", stored)
        hash_ns.append(time.perf_counter_ns() - started)
    print(f"  Argon2 verify alone    median {statistics.median(hash_ns) / 1e6:8.1f} ms")

    await migrate(settings)
    app = create_app(settings)
    username = f"bench{uuid.uuid4().hex[:10]}"
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://auth") as client:
            body = {"username": username, "password": "bench password"}
            assert (await client.post("/auth/register", json=body)).status_code == 201
            for label, credentials, expected in (
                ("POST /auth/login ok", body, 200),
                ("wrong password 401", {**body, "password": "wrong password"}, 401),
                ("unknown user 401", {**body, "username": f"{username}x"}, 401),
            ):
                samples = []
                for _ in range(count):
                    started = time.perf_counter_ns()
                    response = await client.post("/auth/login", json=credentials)
                    samples.append(time.perf_counter_ns() - started)
                    if response.status_code != expected:
                        raise SystemExit(f"{label}: got {response.status_code}")
                ordered = sorted(samples)
                print(
                    f"  {label:<22} median {statistics.median(ordered) / 1e6:8.1f} ms"
                    f"   p95 {ordered[int(len(ordered) * 0.95) - 1] / 1e6:8.1f} ms"
                )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=10_000)
    parser.add_argument("--logins", type=int, default=50)
    parser.add_argument("--skip-login", action="store_true", help="no Postgres needed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        key = Path(folder) / "bench.pem"
        generate(key)
        database_url = os.environ.get("DATABASE_URL", BENCH_DATABASE_URL)
        settings = Settings(
            JWT_PRIVATE_KEY_FILE=key, LOG_LEVEL="WARNING", DATABASE_URL=database_url
        )
        print(f"machine: {os.cpu_count()} cores")
        await bench_verification(settings, args.tokens)
        if not args.skip_login:
            await bench_login(settings, args.logins)


if __name__ == "__main__":
    asyncio.run(main())
