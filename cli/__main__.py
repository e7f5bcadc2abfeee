"""``python -m buckyos.cli``: the same as the ``buckyos`` console script."""

import sys

from .main import main

__all__: list[str] = []

if __name__ == "__main__":
    sys.exit(main())
