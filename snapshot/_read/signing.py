"""The HMAC signature (spec, section 6): computed as the members stream by, checked once.

The signing input is the writer's too: ``_format.mac_member`` frames each
member's name and size, then its bytes follow.  Verification compares in
constant time and never trusts the shape of ``signature.json``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._errors import SnapshotFormatError, SnapshotSignatureError
from .._format import MAC_ALGORITHM, mac_member
from .translate import load_json

if TYPE_CHECKING:
    import hmac


class Signing:
    """The MAC of the members read so far (nothing without a key)."""

    def __init__(self, key: bytes | None) -> None:
        self._mac: hmac.HMAC | None = None
        if key is not None:  # hashlib loads OpenSSL (~5 ms): only when a key is given
            import hashlib
            import hmac

            self._mac = hmac.new(key, digestmod=hashlib.sha256)

    def member(self, name: str, data: Any) -> None:
        if self._mac is not None:
            mac_member(self._mac, name, len(data))
            self._mac.update(data)

    def start(self, name: str, size: int) -> Callable[[Any], None] | None:
        """For a member read in steps: its framing is hashed now; the returned
        function takes each step of its data (None without a key)."""
        if self._mac is None:
            return None
        mac_member(self._mac, name, size)
        return self._mac.update

    def digest(self) -> str:
        return self._mac.hexdigest() if self._mac is not None else ""


def parse_signature(data: Any, path: str) -> dict[str, Any]:
    signature = load_json(data, path, "signature.json")
    if not isinstance(signature, dict):
        raise SnapshotFormatError(f"{path}: damaged signature.json (not an object)", path=path)
    return signature


def check(
    path: str, signature: dict[str, Any] | None, digest: str, *, allow_unsigned: bool
) -> bool:
    """Whether the snapshot read with a key is verified; raises if it must be refused."""
    if signature is None:
        if allow_unsigned:
            return False
        raise SnapshotSignatureError(
            f"{path}: the snapshot is not signed, but a key was given; refusing to "
            "trust it (pass allow_unsigned=True / --allow-unsigned to accept it)",
            path=path,
        )
    import hmac

    claimed = signature.get("mac")
    # compare_digest wants ASCII str or bytes: a MAC of any other shape cannot match.
    valid = isinstance(claimed, str) and claimed.isascii()
    if (
        signature.get("algorithm") != MAC_ALGORITHM
        or not valid
        or not hmac.compare_digest(str(claimed).encode("ascii"), digest.encode("ascii"))
    ):
        raise SnapshotSignatureError(
            f"{path}: the HMAC signature does not match: the file was altered or "
            "signed with another key; do not unpickle it",
            path=path,
        )
    return True
