# syntax=docker/dockerfile:1
# One image recipe for the three services. Build from the repository root (the context must
# hold constraints.txt, common/ and auth-validator/), naming the service, its port and the
# command that starts it:
#   docker build --build-arg SERVICE=chat-service --build-arg PORT=8002 \
#     --build-arg START="uvicorn chat_service.api.app:create_app --factory --host 0.0.0.0 --port 8002" \
#     -t chat-backend/chat-service .
# docker-compose.yml and the Tiltfile hold each service's arguments.
# Targets: `runtime` (default, last stage) and `dev` (Tilt: restarts on synced source changes).

# ---- build: a virtualenv with the service and its pinned dependencies -------------------
FROM python:3.11.13-slim-bookworm AS build
# The service's folder, and the shared folders it depends on (the aggregator: common only).
ARG SERVICE
ARG LIBRARIES=common
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /build
# The whole context (.dockerignore and Tilt's `only` keep it to the packages); only the
# service and its LIBRARIES are installed.
COPY . .
# Not editable: the runtime stage gets site-packages only, no source tree. The import names
# of what was installed go to a file the dev target watches (folder common is chat_common).
RUN test -n "$SERVICE" \
    && pip install -c constraints.txt $(for f in $LIBRARIES; do printf './%s ' "$f"; done) "./$SERVICE" \
    && for f in "$SERVICE" $LIBRARIES; do echo "$f" | sed 's/^common$/chat_common/; s/-/_/g'; done \
       > /opt/venv/service-packages

# ---- runtime-base: what both final targets share ------------------------------------------
FROM python:3.11.13-slim-bookworm AS runtime-base
ARG PORT
ARG START
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SERVICE_PORT=${PORT} \
    SERVICE_START=${START}
# A fixed numeric uid/gid so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
RUN test -n "$SERVICE_PORT" && test -n "$SERVICE_START" \
    && groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
EXPOSE ${PORT}
# Liveness only (no I/O); readiness (/readyz) is for orchestrators to route by.
# python, because the slim image has no curl.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['SERVICE_PORT'], timeout=2)"]

# ---- dev: Tilt syncs src/ into site-packages; watchfiles restarts the process on change --
FROM runtime-base AS dev
COPY constraints.txt /tmp/constraints.txt
RUN pip install --no-cache-dir -c /tmp/constraints.txt watchfiles \
    && rm /tmp/constraints.txt \
    && cd /opt/venv/lib/python3.11/site-packages \
    && chown -R app:app $(cat /opt/venv/service-packages)
USER 10001:10001
WORKDIR /opt/venv/lib/python3.11/site-packages
# exec: the server, not the shell, is PID 1 and gets the signals.
CMD ["/bin/sh", "-c", "exec watchfiles --filter python \"$SERVICE_START\" $(cat /opt/venv/service-packages)"]

# ---- runtime: the production image (default target) ---------------------------------------
FROM runtime-base AS runtime
USER 10001:10001
# exec: the server, not the shell, is PID 1, so SIGTERM reaches it (the aggregator then
# flushes and commits its open groups; the web services drain their requests).
CMD ["/bin/sh", "-c", "exec $SERVICE_START"]
