"""The key command: writes a 0600 PEM once, keeps an existing key, refuses a bad one."""

import stat
from pathlib import Path

import pytest

from auth_service.keygen import generate, main, public_pem


def test_generate_once_with_private_mode(tmp_path: Path) -> None:
    path = tmp_path / "state" / "auth" / "key.pem"
    assert generate(path) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_bytes()
    assert generate(path) is False
    assert path.read_bytes() == first
    assert public_pem(path).startswith(b"-----BEGIN PUBLIC KEY-----")


def test_existing_garbage_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    path.write_text("not a key")
    with pytest.raises(ValueError):
        generate(path)


def test_cli_prints_kid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", str(tmp_path / "k.pem")]) == 0
    assert "created" in capsys.readouterr().out
    assert main(["generate", str(tmp_path / "k.pem")]) == 0
    assert "exists" in capsys.readouterr().out
