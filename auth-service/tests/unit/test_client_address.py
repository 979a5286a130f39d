"""The client address behind trusted proxies: the right-most X-Forwarded-For hop that is
not a trusted proxy, the header ignored from an untrusted peer; and the legacy one hop."""

import pytest
from pydantic import SecretStr, ValidationError

from auth_service.client_address import ClientAddresses, parse_networks
from auth_service.config import Settings

PROXIES = ClientAddresses(parse_networks("10.0.0.0/8, 192.0.2.7, fd00::/8"))
LEGACY = ClientAddresses(trust_last_hop=True)
PEER_ONLY = ClientAddresses()


@pytest.mark.parametrize(
    ("rule", "peer", "forwarded", "expected"),
    [
        # A client straight to the service: its header is its own invention.
        (PROXIES, "203.0.113.5", "6.6.6.6", "203.0.113.5"),
        # Through one proxy: the client is what it appended.
        (PROXIES, "10.0.0.9", "203.0.113.5", "203.0.113.5"),
        # Through two (the inner one appended the outer one's address): skip both.
        (PROXIES, "10.0.0.9", "203.0.113.5, 192.0.2.7", "203.0.113.5"),
        # Whatever the client put in front stays in front: never believed.
        (PROXIES, "10.0.0.9", "1.1.1.1, 6.6.6.6, 203.0.113.5, 10.1.2.3", "203.0.113.5"),
        (PROXIES, "fd00::1", "2001:db8::7", "2001:db8::7"),
        # A trusted peer without the header: a proxy's own request.
        (PROXIES, "10.0.0.9", None, "10.0.0.9"),
        # Garbage where our proxy should have written: the last hop we could read.
        (PROXIES, "10.0.0.9", "203.0.113.5, not-an-address", "10.0.0.9"),
        (PROXIES, "10.0.0.9", "not-an-address, 10.2.2.2", "10.2.2.2"),
        # Every hop trusted: the left-most (a client inside our networks).
        (PROXIES, "10.0.0.9", "10.3.3.3, 10.2.2.2", "10.3.3.3"),
        # Legacy TRUST_X_FORWARDED_FOR: the last entry, whoever the peer.
        (LEGACY, "10.0.0.9", "6.6.6.6, 1.2.3.4", "1.2.3.4"),
        (LEGACY, "10.0.0.9", "1.2.3.4, not-an-address", "10.0.0.9"),
        (LEGACY, "10.0.0.9", None, "10.0.0.9"),
        # Neither: always the peer.
        (PEER_ONLY, "10.0.0.9", "1.2.3.4", "10.0.0.9"),
        (PEER_ONLY, None, None, "unknown"),
    ],
)
def test_the_client_address(
    rule: ClientAddresses, peer: str | None, forwarded: str | None, expected: str
) -> None:
    assert rule.of(peer, forwarded) == expected


def test_every_proxy_behind_a_shared_address_no_longer_shares_a_counter() -> None:
    # N4: behind a load balancer every request's peer is the balancer; two clients stay two.
    seen = {PROXIES.of("10.0.0.9", f"203.0.113.{n}") for n in range(1, 4)}
    assert seen == {"203.0.113.1", "203.0.113.2", "203.0.113.3"}


SIGNING = {"JWT_PRIVATE_KEY": SecretStr("unused here")}


def test_settings_parse_the_networks_and_refuse_a_typo_or_both_rules() -> None:
    settings = Settings(**SIGNING, TRUSTED_PROXIES="10.0.0.0/8,192.0.2.7")
    assert settings.client_addresses().of("10.0.0.1", "203.0.113.5") == "203.0.113.5"
    with pytest.raises(ValidationError, match="not a network or address: '10.0.0.0/33'"):
        Settings(**SIGNING, TRUSTED_PROXIES="10.0.0.0/33")
    with pytest.raises(ValidationError, match="not both"):
        Settings(**SIGNING, TRUSTED_PROXIES="10.0.0.0/8", TRUST_X_FORWARDED_FOR=True)
    assert Settings(**SIGNING, TRUST_X_FORWARDED_FOR=True).client_addresses() == LEGACY
