"""Input rules of registration, checked without a server."""

import pytest
from pydantic import ValidationError

from auth_service.schemas import UserCreate


@pytest.mark.parametrize("username", ["abc", "A.b-c_9", "x" * 32])
def test_valid_usernames(username: str) -> None:
    assert UserCreate(username=username, password="12345678").username == username


@pytest.mark.parametrize("username", ["ab", "x" * 33, "a b", "a/b", "é-abc", "a@b.c"])
def test_invalid_usernames(username: str) -> None:
    with pytest.raises(ValidationError):
        UserCreate(username=username, password="12345678")


@pytest.mark.parametrize("password", ["1234567", "p" * 129])
def test_password_length(password: str) -> None:
    with pytest.raises(ValidationError):
        UserCreate(username="alice", password=password)


@pytest.mark.parametrize("name", ["\x1b[31mred", "evil\u202egnp.exe", "nul\x00"])
def test_display_names_refuse_controls_and_bidi_overrides(name: str) -> None:
    with pytest.raises(ValidationError, match="is not allowed"):
        UserCreate(username="alice", password="12345678", display_name=name)


def test_display_names_keep_ordinary_unicode() -> None:
    name = "Zoë 李 👋"
    assert UserCreate(username="alice", password="12345678", display_name=name).display_name == name


@pytest.mark.parametrize("username", ["abc\x1b", "ab\u202ec"])
def test_usernames_refuse_controls(username: str) -> None:
    with pytest.raises(ValidationError):
        UserCreate(username=username, password="12345678")
