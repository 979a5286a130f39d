"""The published dev key (k8s/overlays/dev) is refused in production, whatever its file is
called or however it is given: the key material is compared."""

import shutil
from pathlib import Path

import pytest

from auth_service.config import Settings
from auth_service.keygen import generate, public_pem
from auth_service.security import (
    PUBLISHED_KEY_THUMBPRINTS,
    TokenSigner,
    jwk_thumbprint,
    load_private_key,
)

DEV_KEY = (
    Path(__file__).resolve().parents[3] / "k8s" / "overlays" / "dev" / "dev-jwt-signing-key.pem"
)


def test_the_pinned_thumbprint_is_the_published_file() -> None:
    key = load_private_key(DEV_KEY.read_bytes())
    assert jwk_thumbprint(key.public_key()) in PUBLISHED_KEY_THUMBPRINTS


@pytest.fixture
def renamed_dev_key(tmp_path: Path) -> Path:
    path = tmp_path / "production-signing-key.pem"  # nothing in the name gives it away
    shutil.copy(DEV_KEY, path)
    return path


def test_refused_in_prod_under_any_name(renamed_dev_key: Path) -> None:
    with pytest.raises(ValueError, match="published development key"):
        TokenSigner.from_settings(
            Settings(ENVIRONMENT="prod", JWT_PRIVATE_KEY_FILE=renamed_dev_key)
        )


def test_refused_in_prod_given_inline() -> None:
    settings = Settings(ENVIRONMENT="prod", JWT_PRIVATE_KEY=DEV_KEY.read_text())
    with pytest.raises(ValueError, match="published development key"):
        TokenSigner.from_settings(settings)


def test_refused_in_prod_as_the_previous_key(tmp_path: Path) -> None:
    own = tmp_path / "own.pem"
    generate(own)
    previous = tmp_path / "previous.pub.pem"
    previous.write_bytes(public_pem(DEV_KEY))
    settings = Settings(
        ENVIRONMENT="prod", JWT_PRIVATE_KEY_FILE=own, JWT_PREVIOUS_PUBLIC_KEY_FILE=previous
    )
    with pytest.raises(ValueError, match="published development key"):
        TokenSigner.from_settings(settings)


@pytest.mark.parametrize("environment", ["dev", "test"])
def test_allowed_outside_prod(renamed_dev_key: Path, environment: str) -> None:
    settings = Settings(ENVIRONMENT=environment, JWT_PRIVATE_KEY_FILE=renamed_dev_key)
    assert TokenSigner.from_settings(settings).kid in PUBLISHED_KEY_THUMBPRINTS


def test_an_own_key_is_accepted_in_prod(tmp_path: Path) -> None:
    own = tmp_path / "own.pem"
    generate(own)
    signer = TokenSigner.from_settings(Settings(ENVIRONMENT="prod", JWT_PRIVATE_KEY_FILE=own))
    assert signer.kid == jwk_thumbprint(load_private_key(own.read_bytes()).public_key())
