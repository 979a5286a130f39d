"""firestore.rules parses with a real Firestore-rules grammar and grants exactly the reads of
DESIGN.md "Firestore, second wave": batches and receipts to members (by `members`), the inbox
to its owner, no write anywhere, and none to a sign-in older than the user's session
revocation document ("Sessions"). The npm emulator does not enforce rules, so this is what
can be checked here; a syntax error fails `make test`."""

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chat_common.contract.documents import (
    SessionRevocationDocument,
    batch_path,
    inbox_path,
    receipt_path,
    session_revocation_path,
)

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "firestore.rules"
CHECKER = REPO / "infra" / "firestore-rules"
DOCUMENTS = "/databases/{database}/documents/"


@pytest.fixture(scope="session")
def parser(tool_output: Callable[[list[str], float], str]) -> Path:
    """check.mjs, its npm modules installed from the committed lock."""
    tool_output(["bash", str(CHECKER / "install.sh")], 600)
    return CHECKER / "check.mjs"


def check(parser: Path, rules: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", str(parser), str(rules)], capture_output=True, text=True, timeout=60, check=False
    )


def parsed(parser: Path, rules: Path) -> list[dict[str, Any]]:
    done = check(parser, rules)
    assert done.returncode == 0, done.stderr
    allows: list[dict[str, Any]] = json.loads(done.stdout)["allows"]
    return allows


def test_the_rules_grant_members_and_owners_reads_only(parser: Path) -> None:
    # The paths come from the contract, so a renamed collection breaks this test.
    assert parsed(parser, RULES) == [
        {"path": DOCUMENTS + batch_path("{chatId}", "{batchId}"), "scopes": ["read"]},
        {"path": DOCUMENTS + receipt_path("{chatId}", "{userId}"), "scopes": ["read"]},
        {"path": DOCUMENTS + inbox_path("{userId}", "{chatId}"), "scopes": ["read"]},
    ]


def test_the_conditions_check_members_the_inbox_owner_and_revocation() -> None:
    text = RULES.read_text()
    current = "isCurrentUserIn({}, request.auth.uid);"
    assert text.count("allow read: if " + current.format("resource.data.members")) == 2
    assert "allow read: if " + current.format("[userId]") in text
    # Both alternatives of the function check the caller and the revocation document, at the
    # contract's path and field.
    revocation = "/databases/$(database)/documents/" + session_revocation_path("$(uid)")
    assert text.count("request.auth != null && uid in uids") == 2
    assert f"!exists({revocation})" in text
    field = "revoked_at_seconds"
    assert field in SessionRevocationDocument.model_json_schema(mode="serialization")["properties"]
    assert f"request.auth.token.auth_time\n            > get({revocation}).data.{field};" in text


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("if isCurrentUserIn([userId], request.auth.uid);", "if isCurrentUserIn([userId];"),
        ("match /users/{userId}", "matc /users/{userId}"),
        ("service cloud.firestore {", "service cloud.firestore"),
    ],
)
def test_a_broken_copy_fails_with_its_line(
    parser: Path, tmp_path: Path, old: str, new: str
) -> None:
    source = RULES.read_text()
    assert old in source
    broken = tmp_path / "firestore.rules"
    broken.write_text(source.replace(old, new, 1))
    done = check(parser, broken)
    assert done.returncode == 1
    assert f"{broken}:" in done.stderr
    assert done.stdout == ""


def test_a_write_grant_is_seen(parser: Path, tmp_path: Path) -> None:
    """The listing the first test holds the rules to shows a write as soon as one appears."""
    widened = tmp_path / "firestore.rules"
    widened.write_text(
        RULES.read_text().replace(
            "allow read: if isCurrentUserIn([userId]",
            "allow read, write: if isCurrentUserIn([userId]",
            1,
        )
    )
    scopes = [allow["scopes"] for allow in parsed(parser, widened)]
    assert ["read", "write"] in scopes
