"""The ``error.traceback`` text: what ``traceback.format_exception`` prints,
column markers under the raising line only, made in time linear in the depth."""

from __future__ import annotations

import traceback

from snapshot._write.exception import describe_exception


def _recurse(n: int) -> None:
    if n == 0:
        _divide({"k": 1})
    _recurse(n - 1)


def _divide(values: dict[str, int]) -> float:
    return values["k"] / 0


def _wrapped() -> None:
    try:
        _recurse(60)
    except ZeroDivisionError as err:
        raise RuntimeError("wrapped") from err


def _raised() -> BaseException:
    try:
        _wrapped()
    except RuntimeError as exc:
        return exc
    raise AssertionError("unreachable")


def _without_markers_above_the_raise(text: str) -> str:
    """format_exception's text with the marker lines of calling lines removed."""
    lines = text.splitlines(keepends=True)
    out = []
    for i, line in enumerate(lines):
        marks = line.strip() and set(line.strip()) <= set("~^")
        following = lines[i + 1] if i + 1 < len(lines) else ""
        # A raising line's markers are followed by the exception line, not a frame.
        if marks and following.startswith("  File "):
            continue
        out.append(line)
    return "".join(out)


def test_text_is_format_exception_with_markers_at_the_raise_only() -> None:
    exc = _raised()
    text = describe_exception(exc)["traceback"]
    expected = _without_markers_above_the_raise("".join(traceback.format_exception(exc)))
    assert text == expected
    assert "[Previous line repeated 57 more times]" in text
    assert text.count("~~~~~~~^~~") == 1  # under `values["k"] / 0`, the raise


def test_skipped_frames_are_left_out_of_the_text() -> None:
    exc = _raised()
    full = describe_exception(exc)["traceback"]
    skipped = describe_exception(exc, skip_frames=1)["traceback"]
    assert "in _raised" in full.split("direct cause")[1]
    assert "in _raised" not in skipped.split("direct cause")[1]
    assert skipped.split("direct cause")[0] == full.split("direct cause")[0]


def test_a_traceback_cut_by_tracebacklimit_shows_each_kept_frame_at_its_own_line(
    monkeypatch,
) -> None:
    """The raise point's line and markers go on the raising entry only: a stack cut
    short (``sys.tracebacklimit``) ends at a frame that called on, at its call."""
    try:
        _recurse(5)
    except ZeroDivisionError as err:
        exc = err
    monkeypatch.setattr("sys.tracebacklimit", 3, raising=False)
    text = describe_exception(exc)["traceback"]
    assert text == "".join(traceback.format_exception(exc))
    assert text.count("_recurse(n - 1)") == 2
    assert "values[" not in text and "^" not in text
