"""``pytest --replay-snapshots DIR``: every snapshot under DIR as a test, judged as ``check``;
``pytest --snapshot-failures[=DIR]``: a snapshot of every failing test, at the raise.

Registered through the ``pytest11`` entry point ``replay``.  Without the option
it adds its options and nothing else: no snapshot is looked for, nothing of
replay's is imported.  With it, each ``*.zst`` file under DIR (recursively)
is one test item, ``PATH::TASK-KEY``, run as ``python -m replay check`` runs it,
in a process of its own:

* ``fixed`` passes;
* ``fails`` and ``changed`` fail, showing the traceback captured on the worker
  beside the new one;
* ``cannot run`` is an error (in setup) with the reason.

With ``--snapshot-failures``, each test that fails in its call writes a
snapshot with the capture core of ``snapshot.capture`` (the same settings:
``snapshot.*`` in Dask's YAML files and ``DASK_SNAPSHOT__*`` variables; DIR wins
over ``snapshot.directory``): the test function with the fixture values it
received, and the frames from the test function inward, with their locals.
The report's section "dask-replay" names the file; ``python -m replay --frames
FILE`` opens it on another machine, and ``python -m replay FILE`` re-runs the
test function with the captured fixture values.

Unpickling runs code: the signature rules of the replay apply
(``--replay-key-file``, else ``$DASK_SNAPSHOT__KEY_FILE`` / ``$DASK_SNAPSHOT__KEY``;
unsigned files are refused with a key unless ``--replay-allow-unsigned``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ._check.runner import CheckOptions
    from ._check.verdicts import CheckResult

__all__ = [
    "SnapshotFile",
    "SnapshotItem",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_report_collectionfinish",
    "pytest_runtest_makereport",
]


_COUNT = pytest.StashKey[int]()
_CAPTURER = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("replay", "dask-replay: snapshots as tests")
    group.addoption(
        "--replay-snapshots",
        action="append",
        default=[],
        metavar="DIR",
        help="collect every snapshot (*.zst) under DIR as a test, judged as "
        "`python -m replay check` judges it (may be repeated)",
    )
    group.addoption(
        "--replay-source",
        action="append",
        default=[],
        metavar="FILE",
        help="a script, notebook or export defining by-value functions: their current "
        "definition runs (as check --source)",
    )
    group.addoption(
        "--replay-key-file",
        default=None,
        metavar="FILE",
        help="check each snapshot's signature with the key in FILE "
        "(default: $DASK_SNAPSHOT__KEY_FILE or $DASK_SNAPSHOT__KEY)",
    )
    group.addoption(
        "--replay-allow-unsigned",
        action="store_true",
        default=False,
        help="with a key, accept snapshots that carry no signature",
    )
    group.addoption(
        "--snapshot-failures",
        nargs="?",
        const="",
        default=None,
        metavar="DIR",
        help="write a snapshot of each failing test at the raise, into DIR (default: "
        "snapshot.directory); give it after the test paths, or as --snapshot-failures=DIR",
    )
    group.addoption(
        "--replay-timeout",
        type=float,
        default=None,
        metavar="S",
        help="seconds one snapshot may take (past them: changed)",
    )


@pytest.hookimpl(tryfirst=True)  # before -k and -m deselect
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    directories = config.getoption("replay_snapshots")
    if not directories:
        return
    import snapshot

    from ._check.runner import snapshot_files

    try:
        files = snapshot_files(directories)
    except snapshot.SnapshotError as exc:
        raise pytest.UsageError(f"--replay-snapshots: {exc}") from None
    added = [
        item
        for path in files
        for item in SnapshotFile.from_parent(session, path=Path(path).resolve()).collect()
    ]
    items.extend(added)
    config.stash[_COUNT] = len(added)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if call.when != "call" or not report.failed or call.excinfo is None:
        return report
    directory = item.config.getoption("snapshot_failures", None)
    if directory is None or hasattr(report, "wasxfail"):
        return report
    note = _capture_failure(item, call.excinfo.value, directory)
    if note:
        report.sections.append(("dask-replay", note))
    return report


def _capture_failure(item: pytest.Item, exc: BaseException, directory: str) -> str | None:
    """Write a snapshot of ``exc``, raised by the test ``item``; the note, or why not."""
    import functools
    import inspect

    import snapshot

    func = getattr(item, "obj", None)
    code = getattr(func, "__code__", None)
    funcargs: dict[str, Any] = getattr(item, "funcargs", {})
    if func is None or code is None:
        return None
    try:
        names = inspect.signature(func).parameters
    except (TypeError, ValueError):
        names = {}  # type: ignore[assignment]
    kwargs = {name: value for name, value in funcargs.items() if name in names}
    whole = exc.__traceback__
    tb = whole
    while tb is not None and tb.tb_frame.f_code is not code:
        tb = tb.tb_next  # pytest's own frames before the test's are not the failure
    capturer = item.config.stash.get(_CAPTURER, None)
    try:
        if capturer is None:
            overrides = {"directory": directory} if directory else {}
            capturer = snapshot.Capturer(snapshot.capture_settings(**overrides))
            item.config.stash[_CAPTURER] = capturer
    except snapshot.SnapshotConfigError as err:
        return f"dask-replay: no snapshot written: {err}"
    exc.__traceback__ = tb or whole
    try:
        outcome = capturer.capture(exc, functools.partial(func, **kwargs))
    finally:
        exc.__traceback__ = whole
    return outcome.note


def pytest_report_collectionfinish(config: pytest.Config) -> str | None:
    count = config.stash.get(_COUNT, None)
    if count is None:
        return None
    return f"replay: {count} snapshot(s) added from --replay-snapshots"


class SnapshotFile(pytest.File):
    """A snapshot file: one item, named after its task."""

    def collect(self) -> list[SnapshotItem]:
        return [SnapshotItem.from_parent(self, name=_task_name(self.path))]


class SnapshotItem(pytest.Item):
    """One snapshot, checked in setup; the verdict decides the test."""

    result: CheckResult | None = None

    def setup(self) -> None:
        from ._check.runner import check_one
        from ._check.verdicts import CheckVerdict

        self.result = check_one(str(self.path), _options(self.config))
        if self.result.verdict is CheckVerdict.CANNOT_RUN:
            pytest.fail(f"cannot run: {self.result.reason}", pytrace=False)

    def runtest(self) -> None:
        from ._check.verdicts import CheckVerdict

        result = self.result
        assert result is not None
        # A snapshot of a finished task (cluster_hook.capture) passes when its value is the same.
        if result.verdict not in (CheckVerdict.FIXED, CheckVerdict.SAME):
            pytest.fail(_failure_text(result), pytrace=False)

    def reportinfo(self) -> tuple[os.PathLike[str] | str, int | None, str]:
        return self.path, None, f"snapshot {self.name}"


def _task_name(path: Path) -> str:
    import snapshot

    try:
        task = snapshot.read_model(str(path)).task  # the one model: every field checked
    except (snapshot.SnapshotError, OSError):
        task = None
    key = task.key if task is not None else None
    name = str(key) if isinstance(key, str | int) and str(key) else path.name
    # A test id reaches the terminal and junit files: the key is the snapshot's text.
    from ._terminal import for_terminal

    return for_terminal(name, one_line=True, limit=200)


def _options(config: pytest.Config) -> CheckOptions:
    from ._check.runner import CheckOptions

    return CheckOptions(
        key=_key(config.getoption("replay_key_file")),
        allow_unsigned=bool(config.getoption("replay_allow_unsigned")),
        sources=tuple(config.getoption("replay_source") or ()),
        timeout=config.getoption("replay_timeout"),
    )


def _key(key_file: str | None) -> bytes | None:
    import snapshot

    key = None
    if key_file is None:
        key = os.environ.get("DASK_SNAPSHOT__KEY") or None
        key_file = os.environ.get("DASK_SNAPSHOT__KEY_FILE") or None
    if key is not None:
        return key.encode("utf-8", "surrogateescape")
    if key_file is None:
        return None
    try:
        return snapshot.read_key_file(key_file)
    except snapshot.SnapshotKeyError as exc:
        raise pytest.UsageError(f"--replay-key-file: {exc}") from None


def _failure_text(result: CheckResult) -> str:
    from ._terminal import for_terminal

    lines: list[Any] = [f"{result.verdict.value}: {result.reason}"]
    if result.ran:
        lines.append(f"ran: {result.ran}")
    lines += ["", "captured on the worker:", result.captured_traceback or "(no traceback)"]
    lines += ["", "now:", result.traceback or "(no traceback)"]
    return "\n".join(for_terminal(str(line)) for line in lines)
