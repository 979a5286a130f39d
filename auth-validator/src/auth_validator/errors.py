"""Why a token was refused, and why no decision could be made."""


class InvalidToken(Exception):
    """The token is not a valid access token; the message says why (safe to show a client)."""


class KeysUnavailable(Exception):
    """No verification key is at hand: the JWKS endpoint is unreachable and nothing is cached."""
