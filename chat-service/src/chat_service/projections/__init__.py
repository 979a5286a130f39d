"""chat-worker's consumers: each a projection of a Kafka topic run by the shared consume loop
(`chat_common.consume`): the inbox and receipts, and the erasure of deleted accounts."""
