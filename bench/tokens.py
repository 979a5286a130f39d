"""Token verification per request against bare PyJWT, and login latency over HTTP.

auth_validator verifies with its keys cached (one JWKS fetch, served in-process). A token
seen before (a client's next request with the same access token), a new token and the
validator with its verified-token cache off are timed apart.
"""

import asyncio
import gc
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import jwt

from auth_service.config import Settings
from auth_service.keys import generate
from auth_service.security import TokenSigner, load_private_key
from auth_validator import TokenValidator, ValidatorSettings
from bench import api
from bench.options import Options
from bench.progress import bars
from bench.results import Headline, Results, fmt, table
from bench.stats import percentile

JWKS_URL = "http://auth.bench/.well-known/jwks.json"


async def _timed(call: Awaitable[object]) -> float:
    started = time.perf_counter_ns()
    await call
    return (time.perf_counter_ns() - started) / 1000


async def _verification(options: Options, key: Path) -> tuple[dict[str, list[float]], int]:
    """µs per call of each path, and how often the validators fetched the JWKS.

    Each token goes through every path in turn (bare, new, cache off) in a rotating order,
    so drift in the machine's speed and warm caches favour none; then every token again,
    now seen before.
    """
    settings = Settings(JWT_PRIVATE_KEY_FILE=key, LOG_LEVEL="WARNING")
    signer = TokenSigner.from_settings(settings)
    now = datetime.now(UTC)
    tokens = [signer.access_token(uuid.uuid4(), f"user{i}", now) for i in range(options.tokens)]
    jwks, fetches = signer.jwks(), 0

    def serve_jwks(_: httpx.Request) -> httpx.Response:
        nonlocal fetches
        fetches += 1
        return httpx.Response(200, json=jwks)

    http = httpx.AsyncClient(transport=httpx.MockTransport(serve_jwks))
    cached = TokenValidator(ValidatorSettings(AUTH_JWKS_URL=JWKS_URL), http)
    uncached = TokenValidator(
        ValidatorSettings(AUTH_JWKS_URL=JWKS_URL, AUTH_TOKEN_CACHE_SIZE=0), http
    )
    public_key = load_private_key(key.read_bytes()).public_key()
    audience, issuer = settings.JWT_AUDIENCE, settings.JWT_ISSUER

    async def bare(token: str) -> object:
        return jwt.decode(token, public_key, algorithms=["EdDSA"], audience=audience, issuer=issuer)

    paths: list[tuple[str, Callable[[str], Awaitable[object]]]] = [
        ("bare", bare),
        ("new", cached.verify),
        ("uncached", uncached.verify),
    ]
    samples: dict[str, list[float]] = {"bare": [], "new": [], "uncached": [], "seen": []}
    try:
        warm = signer.access_token(uuid.uuid4(), "warm", now)
        await cached.verify(warm)  # each validator's JWKS fetch, outside the timed calls
        await uncached.verify(warm)
        with bars() as progress:
            bar = progress.add_task("token verification", total=2 * options.tokens)
            gc.disable()  # a collection inside one path's timing would be charged to it alone
            try:
                for i, token in enumerate(tokens):
                    for name, path in paths[i % 3 :] + paths[: i % 3]:
                        samples[name].append(await _timed(path(token)))
                    progress.advance(bar)
                for token in tokens:
                    samples["seen"].append(await _timed(cached.verify(token)))
                    progress.advance(bar)
            finally:
                gc.enable()
    finally:
        await cached.aclose()
        await uncached.aclose()
        await http.aclose()
    return samples, fetches


async def _logins(options: Options) -> list[float]:
    """Seconds per POST /auth/login against the running auth-service."""
    async with api.session(options.auth_url, 1) as auth:
        user = await api.login(auth, "bench_login")
        body = {"username": user.username, "password": api.PASSWORD}
        seconds = []
        for _ in range(options.logins):
            started = time.perf_counter()
            async with auth.post("/auth/login", json=body) as response:
                response.raise_for_status()
            seconds.append(time.perf_counter() - started)
        return seconds


async def run(options: Options, results: Results) -> None:
    with tempfile.TemporaryDirectory() as folder:
        key = Path(folder) / "bench.pem"
        await asyncio.to_thread(generate, key)
        samples, fetches = await _verification(options, key)
    logins = await _logins(options)
    f = results.figure
    p50 = {name: percentile(values, 0.5) for name, values in samples.items()}
    bare = f("auth.verify.bare_us", p50["bare"])
    new = f("auth.verify.new_token_us", p50["new"])
    seen = f("auth.verify.seen_token_us", p50["seen"])
    off = f("auth.verify.uncached_us", p50["uncached"])
    f("auth.verify.new_vs_bare", new / bare)
    f("auth.verify.seen_vs_bare", seen / bare)
    f("auth.verify.uncached_vs_bare", off / bare)
    f("auth.verify.jwks_fetches", fetches)
    login = f("auth.login_p50_ms", percentile(logins, 0.5) * 1000)
    what = "Token verification"
    results.headline(Headline(f"{what}, new token", new, "µs", "bare PyJWT", bare, "≤ 1.05×"))
    results.headline(
        Headline(f"{what}, token seen before", seen, "µs", "bare PyJWT", bare, "≤ 10 µs")
    )
    results.headline(Headline(f"{what}, cache off", off, "µs", "bare PyJWT", bare))
    rows = [
        [name, fmt(percentile(samples[key], 0.5)), fmt(percentile(samples[key], 0.99))]
        for name, key in (
            ("auth_validator, new token", "new"),
            ("auth_validator, token seen before", "seen"),
            ("auth_validator, cache off", "uncached"),
            ("bare jwt.decode", "bare"),
        )
    ]
    results.section(
        "Tokens",
        f"{options.tokens:,} distinct EdDSA access tokens, keys cached ({fetches} JWKS fetches), "
        "µs per call; each token through every path in turn, garbage collection off while "
        f"timing. POST /auth/login on the running auth-service: p50 {fmt(login)} ms over "
        f"{options.logins} logins (Argon2id dominates).\n\n"
        + table(["", "p50 µs", "p99 µs"], rows),
    )
