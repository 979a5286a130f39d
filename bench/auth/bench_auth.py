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
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import jwt
from asgi_lifespan import LifespanManager

from auth_service.config import Settings
from auth_service.keygen import generate
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
    `auth.verify.jwks_fetches`. Each token is timed through every path in turn, in a
    rotating order, so drift in the machine's speed and warm caches favour none of them.
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

    async def timed_bare(token: str) -> int:
        started = time.perf_counter_ns()
        bare(token)
        return time.perf_counter_ns() - started

    paths: list[tuple[str, Callable[[str], Awaitable[int]]]] = [
        ("bare", timed_bare),
        ("new", lambda token: _timed(cached.verify(token))),
        ("uncached", lambda token: _timed(uncached.verify(token))),
    ]
    samples: dict[str, list[int]] = {"bare": [], "new": [], "seen": [], "uncached": []}
    gc.disable()  # a collection in one path's timing would be charged to it alone
    try:
        for i, token in enumerate(tokens):
            # Each path goes first as often as the others: no path gets the warm caches.
            for name, timed in paths[i % 3 :] + paths[: i % 3]:
                samples[name].append(await timed(token))
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


LOGIN_CASES = (("ok", 200), ("wrong_password", 401), ("unknown_user", 401))


async def login_figures(settings: Settings, count: int) -> dict[str, float]:
    """Median latency (ms) of Argon2 alone and of POST /auth/login (in-process ASGI, real
    Postgres): `auth.login.argon2_verify_ms`, `auth.login.ok_ms`,
    `auth.login.wrong_password_ms`, `auth.login.unknown_user_ms` (and `_p95_ms` of each)."""
    passwords = Passwords.from_settings(settings)
    try:
        stored = await passwords.hash("bench password")
        hash_ns = [await _timed(passwords.verify("bench password", stored)) for _ in range(10)]
    finally:
        passwords.close()
    figures = {"auth.login.argon2_verify_ms": statistics.median(hash_ns) / 1e6}

    await migrate(settings)
    app = create_app(settings)
    username = f"bench{uuid.uuid4().hex[:10]}"
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://auth") as client:
            body = {"username": username, "password": "bench password"}
            assert (await client.post("/auth/register", json=body)).status_code == 201
            bodies = {
                "ok": body,
                "wrong_password": {**body, "password": "wrong password"},
                "unknown_user": {**body, "username": f"{username}x"},
            }
            for case, expected in LOGIN_CASES:
                samples = []
                for _ in range(count):
                    started = time.perf_counter_ns()
                    response = await client.post("/auth/login", json=bodies[case])
                    samples.append(time.perf_counter_ns() - started)
                    if response.status_code != expected:
                        raise SystemExit(f"login {case}: got {response.status_code}")
                ordered = sorted(samples)
                figures[f"auth.login.{case}_ms"] = statistics.median(ordered) / 1e6
                figures[f"auth.login.{case}_p95_ms"] = ordered[int(len(ordered) * 0.95) - 1] / 1e6
    return figures


async def bench_login(settings: Settings, count: int) -> None:
    figures = await login_figures(settings, count)
    print(
        f"login latency, Argon2id t={settings.ARGON2_TIME_COST} "
        f"m={settings.ARGON2_MEMORY_COST_KIB} KiB p={settings.ARGON2_PARALLELISM}"
    )
    print(f"  Argon2 verify alone    median {figures['auth.login.argon2_verify_ms']:8.1f} ms")
    for case, expected in LOGIN_CASES:
        print(
            f"  login {case:<16} {expected} median {figures[f'auth.login.{case}_ms']:8.1f} ms"
            f"   p95 {figures[f'auth.login.{case}_p95_ms']:8.1f} ms"
        )


def bench_settings(key: Path) -> Settings:
    return Settings(
        JWT_PRIVATE_KEY_FILE=key,
        LOG_LEVEL="WARNING",
        DATABASE_URL=os.environ.get("DATABASE_URL", BENCH_DATABASE_URL),
        # The login bench fails logins on purpose, many times from one address: it
        # measures Argon2 and the request path, not the 429 limits.
        LOGIN_FAILURES_PER_USER_ADDRESS=1_000_000,
        LOGIN_FAILURES_PER_ADDRESS=1_000_000,
        LOGIN_FAILURES_PER_ACCOUNT=1_000_000,
    )


async def auth_figures(tokens: int = 10_000, logins: int = 0) -> dict[str, float]:
    """Every figure of this bench as one flat dict, for the bench report: token
    verification (see `verification_figures`), and with `logins` > 0 login latency (see
    `login_figures`; needs PostgreSQL)."""
    with tempfile.TemporaryDirectory() as folder:
        key = Path(folder) / "bench.pem"
        generate(key)
        settings = bench_settings(key)
        figures = await verification_figures(settings, tokens)
        if logins > 0:
            figures.update(await login_figures(settings, logins))
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=10_000)
    parser.add_argument("--logins", type=int, default=50)
    parser.add_argument("--skip-login", action="store_true", help="no Postgres needed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        key = Path(folder) / "bench.pem"
        generate(key)
        settings = bench_settings(key)
        print(f"machine: {os.cpu_count()} cores")
        await bench_verification(settings, args.tokens)
        if not args.skip_login:
            await bench_login(settings, args.logins)


if __name__ == "__main__":
    asyncio.run(main())
