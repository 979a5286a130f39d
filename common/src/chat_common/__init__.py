"""Plumbing shared by every service of the chat backend (kept here once, never copied)."""
