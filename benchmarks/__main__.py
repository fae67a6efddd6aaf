"""``python -m benchmarks``: regenerate docs/performance.md."""

from __future__ import annotations

from ._cli import main

raise SystemExit(main())
