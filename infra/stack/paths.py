"""Where the repository and its local state live."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STATE = REPO / ".state"
VENV_BIN = REPO / ".venv" / "bin"


def state_dir(name: str) -> Path:
    """The git-ignored folder that holds one component's data, log and pid."""
    path = STATE / name
    path.mkdir(parents=True, exist_ok=True)
    return path
