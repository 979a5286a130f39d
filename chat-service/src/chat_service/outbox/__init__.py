"""The transactional outbox's way to Kafka: the events, the producer, the fast path that
announces a change right after its request, and the sweeper that announces what it missed."""
