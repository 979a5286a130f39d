"""chat-api: the HTTP routes (a router per resource), their dependencies and bodies, the
web page and its event streams, and the per-replica listeners that keep caches right."""
