"""The page's URL in the note on the exception the client sees.

The worker learns the list's URL from the scheduler's metadata
(``PAGES_METADATA``, set by ``SnapshotPages`` when a dashboard runs) once, at
setup; from then on each written snapshot's note names its page as well as
its file.  Before that, or without a dashboard, the note is unchanged.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from snapshot import CaptureOutcome, Capturer

from .._names import PAGES_METADATA

#: What a URL for the note may be: any client can set the scheduler's metadata, and
#: the note reaches the client's terminal as it is: printable ASCII, no space, bounded.
_URL = re.compile(r"https?://[!-~]{1,2000}")


class NotingCapturer(Capturer):
    """The capture core, whose notes also name the snapshot's dashboard page."""

    #: The Snapshots list's URL (ends with ``/``), once the scheduler said it.
    pages_url: str | None = None

    def report(self, exc: BaseException, outcome: CaptureOutcome) -> None:
        url = self.pages_url
        if url and outcome.path is not None and outcome.note:
            page = url + quote(outcome.path.name, safe="")
            outcome = replace(outcome, note=f"{outcome.note}\ndask-replay: see it at {page}")
        super().report(exc, outcome)


async def learn_pages_url(worker: Any) -> str | None:
    """The list's URL the scheduler announces, or None (no dashboard, no plugin)."""
    try:
        url = await worker.scheduler.get_metadata(keys=list(PAGES_METADATA), default=None)
    except Exception:
        return None
    return url if isinstance(url, str) and _URL.fullmatch(url) else None
