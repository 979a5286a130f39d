"""The rules of chats and messages, and their records: no HTTP, no driver."""
