"""Cassandra: the session, the schema and its migration, and every query (repositories)."""
