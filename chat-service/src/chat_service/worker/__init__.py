"""chat-worker: every consumer group of chat-service (the inbox and receipts, the erasure of
deleted accounts) and the outbox sweeper, with /healthz, /readyz and /metrics."""
