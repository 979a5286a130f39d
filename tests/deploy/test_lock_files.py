"""Lock files pin versions and hashes only: no download address (a registry host, a
tarball URL, a funding link) is committed, so installs go to the registry the machine
is set up with."""

import json
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADDRESS = re.compile(r"[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def _committed(pattern: str) -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", pattern], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return [ROOT / line for line in listed.stdout.splitlines()]


def test_npm_lock_files_hold_no_addresses() -> None:
    locks = _committed("*package-lock.json")
    assert locks, "no package-lock.json found"
    for lock in locks:
        text = lock.read_text()
        json.loads(text)  # still a lock npm can read
        found = ADDRESS.findall(text)
        assert not found, f"{lock.relative_to(ROOT)} holds {len(found)} address(es)"


def test_python_constraints_hold_no_addresses() -> None:
    for pins in _committed("constraints.txt"):
        assert not ADDRESS.search(pins.read_text()), pins
