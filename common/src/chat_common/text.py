"""The rule for human-written text (messages, display names, usernames): no control
characters but newline and tab, and no bidirectional overrides.

Escape sequences in text clear or rewrite a reader's terminal, and bidi overrides make
text display differently from what it says ("Trojan Source"). The API refuses them with
a 422; clients that print text from elsewhere neutralise them with `printable`.
"""

import re
from typing import Annotated

from pydantic import AfterValidator

# C0 controls except \t and \n, DEL, C1 controls; bidi embeddings/overrides (U+202A-202E)
# and isolates (U+2066-2069). Bidi *marks* (U+200E, U+200F, U+061C) stay allowed: right-
# to-left writers need them and they cannot reorder other text.
UNSAFE_CHARACTERS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def reject_unsafe_characters(value: str) -> str:
    """`value` unchanged, or ValueError (a 422 in a request model) naming the first offender."""
    found = UNSAFE_CHARACTERS.search(value)
    if found:
        raise ValueError(
            f"control or bidi override character U+{ord(found.group()):04X} "
            f"at position {found.start()} is not allowed"
        )
    return value


def printable(value: str) -> str:
    """`value` with each unsafe character shown as a visible `\\xNN`/`\\uNNNN` escape."""
    return UNSAFE_CHARACTERS.sub(lambda m: m.group().encode("unicode_escape").decode(), value)


# Apply after the other constraints (so after stripping): `Annotated[str, ..., SafeText]`.
SafeText = AfterValidator(reject_unsafe_characters)
SafeStr = Annotated[str, SafeText]
