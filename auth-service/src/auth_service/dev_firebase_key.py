"""A throwaway Firebase service-account key for a local run, so POST /auth/firebase-token
answers there as in production: `python -m auth_service.dev_firebase_key PATH`.

No Firebase project trusts it (the local Firestore emulator checks no token); production
mounts the real key from a Secret (FIREBASE_SERVICE_ACCOUNT_FILE).
"""

import argparse
import json
import os
import uuid
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

PROJECT_ID = "demo-chat"


def new_key(project_id: str = PROJECT_ID) -> tuple[dict[str, Any], rsa.RSAPublicKey]:
    """A service-account key file's content, in the Firebase console's format, and its
    public half."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    key = {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": uuid.uuid4().hex,
        "private_key": pem,
        "client_email": f"firebase-adminsdk-local@{project_id}.iam.gserviceaccount.com",
        "client_id": "0",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    return key, private.public_key()


def generate(path: Path) -> bool:
    """Write a new key to `path` (mode 0600) unless one exists; True if written."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    key, _ = new_key()
    # O_EXCL: two concurrent runs cannot both write; 0600: a private key.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(key, handle)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m auth_service.dev_firebase_key")
    parser.add_argument("path", type=Path)
    args = parser.parse_args(argv)
    print(f"{'created' if generate(args.path) else 'exists'}: {args.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
