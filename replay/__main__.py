"""``python -m replay``: see ``replay._cli``."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    import gc

    # Start-up makes thousands of long-lived objects (modules, classes) and no cycles
    # worth collecting: the collector's passes over them are a tenth of `info`'s own
    # cost.  `info` and `list` read files and make no cycles; anything that runs the
    # user's code (a replay, check, shrink) gets the collector back first.
    gc.disable()
    from replay._cli import main

    if sys.argv[1:2] not in (["info"], ["list"]):
        gc.enable()
    sys.exit(main())
