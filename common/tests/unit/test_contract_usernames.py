"""The username rule, as the services, the database constraint and the search use it."""

import re

import pytest

from chat_common.contract.usernames import USERNAME_PREFIX_PATTERN, is_username


@pytest.mark.parametrize("name", ["bob", "Alice_99", "a.b-c", "x" * 32])
def test_valid_usernames(name: str) -> None:
    assert is_username(name)
    assert re.fullmatch(USERNAME_PREFIX_PATTERN, name)


@pytest.mark.parametrize("name", ["", "ab", "x" * 33, "bob smith", "bob\n", "b/ob", "bøb", "bob!"])
def test_invalid_usernames(name: str) -> None:
    assert not is_username(name)


def test_prefixes_may_be_empty_or_short_but_not_long_or_odd() -> None:
    assert re.fullmatch(USERNAME_PREFIX_PATTERN, "")
    assert re.fullmatch(USERNAME_PREFIX_PATTERN, "b")
    assert not re.fullmatch(USERNAME_PREFIX_PATTERN, "x" * 33)
    assert not re.fullmatch(USERNAME_PREFIX_PATTERN, "b%")
