"""The inbox projection: unread counts, read marks and previews per chat, kept by one ordered
writer per chat (consumer group `chat-inbox` of `chat-messages`), and the Firestore inbox
and receipt documents that follow them. See chat-service/README.md, "How unread stays exact".
"""
