"""Kafka `chat-messages` to Firestore batch documents, after Camel's Aggregator EIP."""
