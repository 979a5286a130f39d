"""The client address rate limits count under, behind proxies we trust.

Each proxy appends the address it received the request from to X-Forwarded-For, so the
header reads client, proxy1, proxy2, ... and the TCP peer is the last proxy. Anything left
of what our own proxies appended is the client's to invent. So, with TRUSTED_PROXIES (a
list of networks): when the peer is trusted, walk the header from the right past every
trusted hop; the first untrusted one is the client. An untrusted peer is the client itself
(the header is ignored). Without TRUSTED_PROXIES, the legacy TRUST_X_FORWARDED_FOR=true
takes the last entry (exactly one proxy, of any address); neither: the peer.
"""

import ipaddress
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

UNKNOWN = "unknown"


def parse_networks(text: str) -> tuple[Network, ...]:
    """Comma-separated networks or addresses (`10.0.0.0/8, 192.0.2.7, fd00::/8`);
    ValueError naming the entry that is neither."""
    networks = []
    for entry in (part.strip() for part in text.split(",")):
        if entry:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ValueError(f"not a network or address: {entry!r}") from None
    return tuple(networks)


def _address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


@dataclass(frozen=True)
class ClientAddresses:
    """How to find the client's address: trusted proxy networks, or the legacy one hop."""

    trusted: tuple[Network, ...] = ()
    trust_last_hop: bool = False

    def _trusted(self, address: Address) -> bool:
        return any(address in network for network in self.trusted)

    def of(self, peer: str | None, forwarded_for: str | None) -> str:
        """The address the limits count under, for this TCP peer and X-Forwarded-For."""
        peer_address = _address(peer) if peer else None
        if peer_address is None:
            return peer or UNKNOWN
        hops = [hop for hop in (forwarded_for or "").split(",") if hop.strip()]
        if self.trusted:
            return str(self._right_most_untrusted(peer_address, hops))
        if self.trust_last_hop and hops:
            last = _address(hops[-1])
            return str(last) if last is not None else str(peer_address)
        return str(peer_address)

    def _right_most_untrusted(self, peer: Address, hops: list[str]) -> Address:
        client = peer
        for hop in reversed(hops):
            if not self._trusted(client):
                break
            address = _address(hop)
            if address is None:
                # Garbage where a proxy of ours should have written an address: the last
                # hop we could read is as far as the chain can be believed.
                break
            client = address
        return client
