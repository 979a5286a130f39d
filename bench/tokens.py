"""Token verification per request against bare PyJWT, and login latency over HTTP.

auth_validator verifies with its keys cached (one JWKS fetch, served in-process). A token
seen before (a client's next request with the same access token) and a new token are
timed apart: a verified-token cache makes the first cheap, never the second.
"""

import asyncio
import tempfile
import time
import uuid
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


async def _verification(options: Options, key: Path) -> dict[str, list[float]]:
    settings = Settings(JWT_PRIVATE_KEY_FILE=key, LOG_LEVEL="WARNING")
    signer = TokenSigner.from_settings(settings)
    now = datetime.now(UTC)
    tokens = [signer.access_token(uuid.uuid4(), f"user{i}", now) for i in range(options.tokens + 1)]
    jwks = signer.jwks()
    http = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda _: httpx.Response(200, json=jwks))
    )
    validator = TokenValidator(ValidatorSettings(AUTH_JWKS_URL=JWKS_URL), http)
    public_key = load_private_key(key.read_bytes()).public_key()
    samples: dict[str, list[float]] = {"new": [], "seen": [], "pyjwt": []}
    try:
        await validator.verify(tokens[0])  # the one JWKS fetch
        with bars() as progress:
            bar = progress.add_task("token verification", total=3 * options.tokens)
            for token in tokens[1:]:
                started = time.perf_counter_ns()
                await validator.verify(token)
                samples["new"].append((time.perf_counter_ns() - started) / 1000)
                progress.advance(bar)
            for _ in range(options.tokens):
                started = time.perf_counter_ns()
                await validator.verify(tokens[0])
                samples["seen"].append((time.perf_counter_ns() - started) / 1000)
                progress.advance(bar)
            for token in tokens[1:]:
                started = time.perf_counter_ns()
                jwt.decode(
                    token,
                    public_key,
                    algorithms=["EdDSA"],
                    audience=settings.JWT_AUDIENCE,
                    issuer=settings.JWT_ISSUER,
                )
                samples["pyjwt"].append((time.perf_counter_ns() - started) / 1000)
                progress.advance(bar)
    finally:
        await validator.aclose()
        await http.aclose()
    return samples


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
        samples = await _verification(options, key)
    logins = await _logins(options)
    f = results.figure
    new = f("auth.verify_new_us", percentile(samples["new"], 0.5))
    seen = f("auth.verify_seen_us", percentile(samples["seen"], 0.5))
    bare = f("auth.pyjwt_us", percentile(samples["pyjwt"], 0.5))
    f("auth.new_ratio", new / bare)
    f("auth.seen_ratio", seen / bare)
    login = f("auth.login_p50_ms", percentile(logins, 0.5) * 1000)
    results.headline(
        Headline("Token verification, new token", new, "µs", "bare PyJWT", bare, "≤ 1.05×")
    )
    results.headline(
        Headline("Token verification, token seen before", seen, "µs", "bare PyJWT", bare, "≤ 10 µs")
    )
    rows = [
        [name, fmt(percentile(s, 0.5)), fmt(percentile(s, 0.99))]
        for name, s in (
            ("auth_validator, new token", samples["new"]),
            ("auth_validator, token seen before", samples["seen"]),
            ("bare jwt.decode", samples["pyjwt"]),
        )
    ]
    results.section(
        "Tokens",
        f"{options.tokens:,} distinct EdDSA access tokens, keys cached (µs per call). "
        f"POST /auth/login on the running auth-service: p50 {fmt(login)} ms over "
        f"{options.logins} logins (Argon2id dominates).\n\n"
        + table(["", "p50 µs", "p99 µs"], rows),
    )
