"""Benchmark of auth: token verification cost and login latency (prints figures, asserts nothing).

Run (PostgreSQL on 127.0.0.1:5432 for the login part; uses its own database `chat_bench`):
    /work/main/.venv/bin/python bench/auth/bench_auth.py [--tokens 10000] [--logins 50]

Prints the median per-token cost of auth_validator's `verify` (keys cached after one JWKS
fetch) next to a bare PyJWT decode of the same tokens in the same run, and the latency of
POST /auth/login (in-process ASGI, real Postgres) at the configured Argon2 parameters.
"""

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
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


async def bench_verification(settings: Settings, count: int) -> None:
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
    validator = TokenValidator(ValidatorSettings(AUTH_JWKS_URL=JWKS_URL), http)
    await validator.verify(tokens[0])  # the one JWKS fetch; every timed call hits the cache
    key_pem = Path(str(settings.JWT_PRIVATE_KEY_FILE)).read_bytes()
    public_key = load_private_key(key_pem).public_key()

    validator_ns: list[int] = []
    for token in tokens:
        started = time.perf_counter_ns()
        await validator.verify(token)
        validator_ns.append(time.perf_counter_ns() - started)
    bare_ns: list[int] = []
    for token in tokens:
        started = time.perf_counter_ns()
        jwt.decode(
            token,
            public_key,
            algorithms=["EdDSA"],
            audience=settings.JWT_AUDIENCE,
            issuer=settings.JWT_ISSUER,
        )
        bare_ns.append(time.perf_counter_ns() - started)
    await validator.aclose()
    await http.aclose()

    v_median, v_p99 = micros(validator_ns)
    b_median, b_p99 = micros(bare_ns)
    print(f"token verification over {count} distinct tokens (keys cached, JWKS fetches: {fetches})")
    print(f"  auth_validator.verify  median {v_median:8.1f} us   p99 {v_p99:8.1f} us")
    print(f"  bare jwt.decode        median {b_median:8.1f} us   p99 {b_p99:8.1f} us")
    print(f"  ratio validator / bare  {v_median / b_median:.2f}x")


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
