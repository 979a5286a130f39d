"""Chat service: two-person chats and their message history, announced on Kafka."""
