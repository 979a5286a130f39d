import stat
from pathlib import Path

from chat_cli.session import Session, SessionStore


def make_session(refresh: str = "r1") -> Session:
    return Session("u1", "alice", "a1", refresh, 1000.0)


def test_save_and_load_round_trip_in_a_private_file(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "cfg")
    store.save(make_session())
    assert store.load() == make_session()
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_missing_or_corrupt_file_is_no_session(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    assert store.load() is None
    store.path.write_text("{not json", encoding="utf-8")
    assert store.load() is None
    store.path.write_text('{"user_id": "u"}', encoding="utf-8")
    assert store.load() is None


def test_clear_forgets_the_session(tmp_path: Path) -> None:
    store = SessionStore(tmp_path)
    store.save(make_session())
    store.clear()
    store.clear()
    assert store.load() is None


def test_expires_within() -> None:
    session = make_session()
    assert not session.expires_within(30, now=900.0)
    assert session.expires_within(30, now=980.0)
