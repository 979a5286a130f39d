"""Token verification per request against bare PyJWT, and login latency.

The measuring is `bench/auth/bench_auth.py`'s (`auth_figures`, kept with the verified-token
cache it measures): each token through bare PyJWT, a new token and the cache turned off in
rotating order, then every token again as one seen before; logins in-process against
PostgreSQL. This part puts its figures in the report.
"""

from bench.auth.bench_auth import auth_figures
from bench.options import Options
from bench.progress import bars
from bench.results import Headline, Results, fmt, table

PATHS = (
    ("auth_validator, new token", "new_token"),
    ("auth_validator, token seen before", "seen_token"),
    ("auth_validator, cache off", "uncached"),
    ("bare jwt.decode", "bare"),
)


async def run(options: Options, results: Results) -> None:
    with bars() as progress:
        progress.add_task(f"token verification ({options.tokens:,} tokens) and logins", total=None)
        figures = await auth_figures(options.tokens, options.logins)
    for name, value in figures.items():
        results.figure(name, value)
    us = {key: figures.get(f"auth.verify.{key}_us") for _, key in PATHS}
    bare = us["bare"]
    what = "Token verification"
    results.headline(
        Headline(f"{what}, new token", us["new_token"], "µs", "bare PyJWT", bare, "≤ 1.05×")
    )
    results.headline(
        Headline(
            f"{what}, token seen before", us["seen_token"], "µs", "bare PyJWT", bare, "≤ 10 µs"
        )
    )
    results.headline(Headline(f"{what}, cache off", us["uncached"], "µs", "bare PyJWT", bare))
    logins = [
        [name.removeprefix("auth.login.").removesuffix("_ms"), fmt(value)]
        for name, value in figures.items()
        if name.startswith("auth.login.") and not name.endswith("_p95_ms")
    ]
    results.section(
        "Tokens",
        f"{options.tokens:,} distinct EdDSA access tokens, keys cached, median µs per call "
        "(see bench/auth/bench_auth.py).\n\n"
        + table(["", "median µs"], [[label, fmt(us[key])] for label, key in PATHS])
        + (
            f"\n\nPOST /auth/login, {options.logins} each (median ms, in-process app, "
            "real PostgreSQL):\n\n" + table(["case", "ms"], logins)
            if logins
            else ""
        ),
    )
