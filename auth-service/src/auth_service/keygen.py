"""Command that creates the Ed25519 signing key: `python -m auth_service.keygen generate PATH`."""

import argparse
import os
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from auth_service.security import jwk_thumbprint, load_private_key


def generate(path: Path) -> bool:
    """Write a new PEM private key to `path` (mode 0600) unless one exists; True if written."""
    if path.exists():
        load_private_key(path.read_bytes())  # an unusable existing file must not pass silently
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    # O_EXCL: two concurrent runs cannot both write; 0600: the key is never world-readable.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return True


def public_pem(private_path: Path) -> bytes:
    """The public half of a private key file, to publish as JWT_PREVIOUS_PUBLIC_KEY_FILE."""
    key = load_private_key(private_path.read_bytes())
    return key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m auth_service.keygen")
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="create a private key file if missing")
    gen.add_argument("path", type=Path)
    pub = commands.add_parser("public", help="print the public PEM of a private key file")
    pub.add_argument("path", type=Path)
    args = parser.parse_args(argv)
    if args.command == "generate":
        written = generate(args.path)
        kid = jwk_thumbprint(load_private_key(args.path.read_bytes()).public_key())
        state = "created" if written else "exists"
        print(f"{state}: {args.path} (kid {kid})")
    else:
        sys.stdout.write(public_pem(args.path).decode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
