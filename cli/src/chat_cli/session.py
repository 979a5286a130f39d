"""The logged-in user's tokens, kept in one private file in the config directory."""

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

SESSION_FILE = "session.json"
LOCK_FILE = "session.lock"


@dataclass(frozen=True)
class Session:
    """Who is logged in and the tokens that prove it."""

    user_id: str
    username: str
    access_token: str
    refresh_token: str
    # Unix seconds after which the access token is refused.
    access_expires_at: float

    def expires_within(self, seconds: float, now: float) -> bool:
        return self.access_expires_at - seconds <= now


class SessionStore:
    """Reads and writes the session file (0600: it holds a refresh token)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / SESSION_FILE

    def load(self) -> Session | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            # A corrupt file is treated as no session: logging in again rewrites it.
            return None
        try:
            return Session(
                user_id=str(data["user_id"]),
                username=str(data["username"]),
                access_token=str(data["access_token"]),
                refresh_token=str(data["refresh_token"]),
                access_expires_at=float(data["access_expires_at"]),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def save(self, session: Session) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Write beside and rename, so a reader never sees half a file.
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(session), handle)
        os.replace(tmp, self.path)

    def clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive across processes: two `chat` commands must not both spend one refresh
        token, or the auth service sees a reuse and revokes the whole session."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
