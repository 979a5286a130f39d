"""`python -m bench.soak`: the soak alone, written as a report like `make bench`'s."""

import sys

from bench.__main__ import interruptible, parse, run


def main() -> None:
    options = parse(sys.argv[1:], __doc__ or "", only=("soak",))
    sys.exit(interruptible(run(options)))


if __name__ == "__main__":
    main()
