"""``python -m replay``: see ``replay._cli``."""

from __future__ import annotations

import sys

from replay._cli import main

if __name__ == "__main__":
    sys.exit(main())
