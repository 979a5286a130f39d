"""`python -m aggregator`: the consumer plus its /healthz, /readyz, /metrics server."""

import uvicorn

from aggregator.config import get_settings
from aggregator.main import create_app


def main() -> None:
    settings = get_settings()
    uvicorn.run(
        create_app(settings),
        host=settings.METRICS_HOST,
        port=settings.METRICS_PORT,
        access_log=False,
        log_config=None,  # keep configure_logging's JSON lines
        timeout_graceful_shutdown=15,
    )


if __name__ == "__main__":
    main()
