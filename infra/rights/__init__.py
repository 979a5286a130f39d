"""Every component's rights, one source: see source.py."""
