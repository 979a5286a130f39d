"""`python -m bench.soak`: the soak alone, written as a report like `make bench`'s."""

import asyncio
import sys

from bench.__main__ import parse, run


def main() -> None:
    options = parse(sys.argv[1:], __doc__ or "", only=("soak",))
    sys.exit(asyncio.run(run(options)))


if __name__ == "__main__":
    main()
