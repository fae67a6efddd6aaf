"""The quick readings of ``info``, ``list`` and replay command lines equal argparse's."""

from __future__ import annotations

import hypothesis
import pytest
from hypothesis import strategies as st

from replay._cli.args import (
    UsageError,
    info_parser,
    list_parser,
    quick_info_args,
    quick_list_args,
    quick_replay_args,
    replay_parser,
)

TOKENS = st.sampled_from(
    [
        *("s.zst", "other.zst", "--json", "--key", "--key-file", "k", "-k", "--allow-unsigned"),
        *("--js", "--key=k", "--", "-", "-h", "--help", "-1", "x y", "--deep"),
        *("--no-debug", "--frames", "--debugger", "pdb", "--port", "0", "--no-deb"),
    ]
)


def argparse_reading(parser: object, args: list[str]) -> dict[str, object] | None:
    try:
        return vars(parser.parse_args(args))  # type: ignore[attr-defined]
    except (UsageError, SystemExit):
        return None


@hypothesis.settings(max_examples=300)
@hypothesis.given(st.lists(TOKENS, max_size=6))
def test_quick_info_args_read_what_argparse_reads(args: list[str]) -> None:
    quick = quick_info_args(args)
    if quick is not None:
        assert vars(quick) == argparse_reading(info_parser("replay"), args)


@hypothesis.settings(max_examples=300)
@hypothesis.given(st.lists(TOKENS, max_size=6))
def test_quick_replay_args_read_what_argparse_reads(args: list[str]) -> None:
    quick = quick_replay_args(args)
    if quick is not None:
        assert vars(quick) == argparse_reading(replay_parser("replay"), args)


@pytest.mark.parametrize(
    "args", [["s.zst"], ["s.zst", "--no-debug"], ["--frames", "--no-debug", "s.zst"]]
)
def test_the_usual_replays_take_the_quick_path(args: list[str]) -> None:
    quick = quick_replay_args(args)
    assert quick is not None
    assert vars(quick) == argparse_reading(replay_parser("replay"), args)


@hypothesis.given(st.lists(TOKENS, max_size=3))
def test_quick_list_args_read_what_argparse_reads(args: list[str]) -> None:
    quick = quick_list_args(args)
    if quick is not None:
        assert vars(quick) == argparse_reading(list_parser("replay"), args)


@pytest.mark.parametrize(
    "args",
    [
        ["s.zst"],
        ["--json", "s.zst"],
        ["s.zst", "--key-file", "k"],
        ["--key", "k", "s.zst"],
        ["s.zst", "--deep"],
    ],
)
def test_the_usual_command_lines_take_the_quick_path(args: list[str]) -> None:
    assert quick_info_args(args) is not None
