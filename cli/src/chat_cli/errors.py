"""Errors the client shows as one line (never a traceback)."""


class CliError(Exception):
    """Something the user can act on; `str(error)` is the whole message."""


class NotLoggedIn(CliError):
    def __init__(self) -> None:
        super().__init__("not logged in: run `chat login USERNAME` first")


class SessionExpired(CliError):
    def __init__(self) -> None:
        super().__init__("your session has expired or was revoked: run `chat login` again")


class BadCredentials(CliError):
    def __init__(self) -> None:
        super().__init__("incorrect username or password")


class UnknownUser(CliError):
    def __init__(self, username: str) -> None:
        super().__init__(f"unknown user: {username}")


class ServerDown(CliError):
    def __init__(self, service: str, url: str) -> None:
        super().__init__(f"{service} is not reachable at {url} (is it running? try `make up`)")
