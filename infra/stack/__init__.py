"""`make up` / `down` / `status` / `clean`: the whole system as local processes, no Docker.

Each server lives in `infra/<name>/` behind two scripts: `install.sh` (idempotent) and
`run.sh` (the server in the foreground). This package starts them in the background,
records their pids under `.state/<name>/pid`, waits until each really answers, prepares
topics and schemas, then starts the Python services.
"""
