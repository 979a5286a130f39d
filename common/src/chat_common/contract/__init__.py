"""The contracts between packages, each defined once (STYLE.md "Contracts live once").

- `times`: version-1 time UUIDs and the RFC 3339 format of message times;
- `events`: the Kafka events (versions 1 and 2), encoded and strictly parsed;
- `documents`: the Firestore documents and their paths;
- `firestore`: the one Firestore client factory;
- `usernames`: the username rule.
"""
