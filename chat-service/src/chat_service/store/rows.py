"""What every repository of this package shares about rows."""

from collections.abc import Sequence
from datetime import UTC, datetime

# A named prepared statement and its bound values, as a batch takes them.
Statement = tuple[str, Sequence[object]]


def utc(value: datetime | None) -> datetime | None:
    """A driver timestamp as an aware UTC datetime (the driver returns naive ones)."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
