"""``python -m benchmarks``: regenerate docs/performance.md."""

from __future__ import annotations

from ._cli import main

if __name__ == "__main__":  # worker processes are spawned: never re-run on import
    raise SystemExit(main())
