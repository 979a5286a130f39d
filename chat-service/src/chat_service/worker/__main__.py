"""`python -m chat_service.worker` (or `chat-worker`): the worker and its ops server."""

import uvicorn

from chat_service.config import get_settings
from chat_service.worker.app import create_app


def main() -> None:
    settings = get_settings()
    uvicorn.run(
        create_app(settings),
        host=settings.WORKER_HOST,
        port=settings.WORKER_PORT,
        access_log=False,
        log_config=None,  # keep configure_logging's JSON lines
        timeout_graceful_shutdown=15,
    )


if __name__ == "__main__":
    main()
