"""Helpers shared by the test modules (importable as `support`)."""

from collections.abc import Callable
from dataclasses import dataclass

PASSWORD = "integration-pass-1"


@dataclass
class Result:
    """What one `chat` process did."""

    code: int
    out: str
    err: str


Run = Callable[..., Result]
