"""The :class:`Replay` that ``replay.load(path)`` returns.

The call, the inputs and the frame locals are unpickled the first time they
are asked for, so a missing module surfaces as
:class:`snapshot.SnapshotModuleError` at that point and names the module.

:class:`Replay` owns the flow of a re-run and of a post-mortem, from the
sources to the verdict: the helpers of ``replay._run``, ``replay._sources``
and ``replay._describe`` are handed the values they need, never the Replay.
"""

from __future__ import annotations

import functools
import os
import sys
import types
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

import snapshot

from .._describe.userframes import failing_function_index
from .._frames import CapturedFrame, build_traceback, captured_frames, shown_name
from .._run.call import Call, call_and_judge, finish, require_complete_call
from .._run.choose import DebuggerChoice, choose
from .._run.conditions import death_conditions
from .._run.debugger import Debugger
from .._run.drive import (
    announce_frames,
    callable_name,
    end_prompt_line,
    print_frames,
    require_frames,
    run_debugger,
    say,
    say_each,
    show_outcome,
)
from .._run.stepin import driver
from .._run.verdict import Outcome
from .._sources.report import SourceReport, frame_records, locate_sources
from .._terminal import for_terminal, source_text
from .._versions import VersionDifference, compare_versions

if TYPE_CHECKING:
    from .._check.verdicts import CheckResult

__all__ = ["Replay"]


class Replay:
    """A captured failure, ready to re-run or to inspect post-mortem.

    ``func``, ``args``, ``kwargs``, ``inputs``, ``exception`` and ``frames``
    unpickle on first access.  ``run()`` re-executes the call, ``debug()`` runs
    it under a debugger and ``post_mortem()`` opens the captured frames.
    """

    def __init__(self, opened: snapshot.Snapshot) -> None:
        self._snapshot = opened
        self.path: str = os.fspath(opened.path)
        #: The manifest as read from the file (plain JSON); :attr:`model` is its typed form.
        self.manifest: dict[str, Any] = opened.manifest
        #: The typed manifest (``snapshot.Manifest``): every field optional, checked once.
        self.model: snapshot.Manifest = opened.model
        #: For a worker's death: the data limit a re-run runs under, in bytes;
        #: "worker" (the dead worker's memory limit) or None (no limit).
        self.memory_limit: int | str | None = "worker"
        self._located: dict[bool, SourceReport] = {}

    def __repr__(self) -> str:
        key = self.model.task.key if self.model.task is not None else None
        kind = self.model.error.type if self.model.error is not None else None
        return f"<Replay {self.path!r} task={key!r} error={kind!r}>"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        """IPython's text display: what ``info`` shows (``replay._describe.display``)."""
        from .._describe.display import pretty_text

        p.text(repr(self) if cycle else pretty_text(self._snapshot, self.path))

    def _repr_html_(self) -> str:
        """Jupyter's display: the snapshot's page, its frames folded (as ``html`` writes it)."""
        from .._describe.display import html_page

        return html_page(self._snapshot, self.path)

    # -- what was captured -------------------------------------------------
    @functools.cached_property
    def call(self) -> Call:
        """``(func, args, kwargs)`` of the failing call, unpickled.

        Raises :class:`NotReplayableError` when a part of the call was not
        stored (it would come back as a placeholder, and re-running with a
        placeholder argument proves nothing).
        """
        require_complete_call(self.model, self.path)
        func, args, kwargs = self._snapshot.call()
        return func, tuple(args), dict(kwargs)

    @property
    def func(self) -> Callable[..., Any]:
        return self.call[0]

    @property
    def args(self) -> tuple[Any, ...]:
        return self.call[1]

    @property
    def kwargs(self) -> dict[str, Any]:
        return self.call[2]

    @functools.cached_property
    def inputs(self) -> dict[Any, Any]:
        """The task's resolved dependencies, ``{key: value}``."""
        return dict(self._snapshot.inputs())

    @functools.cached_property
    def result(self) -> Any:
        """What the task returned on the cluster, for a snapshot captured on demand of a
        finished task (``cluster_hook.capture``; spec 4.13).

        Raises :class:`snapshot.SnapshotFormatError` (``ReplayError`` for the CLI) when
        the snapshot holds none: a failure's snapshot, or one of a failed task.
        """
        return self._snapshot.result()

    @functools.cached_property
    def exception(self) -> BaseException | snapshot.Placeholder:
        """The exception object captured on the worker (without its traceback).

        A :class:`snapshot.Placeholder` when the exception could not be pickled.
        """
        exc: BaseException | snapshot.Placeholder = self._snapshot.exception()
        return exc

    @functools.cached_property
    def frames(self) -> list[CapturedFrame]:
        """The frames captured at the raise, outermost first.

        A local that cannot be unpickled here becomes a
        :class:`snapshot.Placeholder` saying why, so the others stay inspectable.
        """
        return captured_frames(
            self.model.frames,
            self.sources,
            self._report().placements,
            self._snapshot.frame_locals,
        )

    @property
    def failing_function(self) -> CapturedFrame | None:
        """The user's function where the exception was raised, and the values it held:
        the innermost frame of the user's own code (``.function == "make_err"``,
        ``.locals == {"x": 0}``), under whatever Dask ran it through (a fused task,
        ``Series.map``); None when no captured frame is the user's code."""
        index = failing_function_index(self.model.frames)
        return None if index is None else self.frames[index]

    @functools.cached_property
    def sources(self) -> dict[str, str]:
        """Source text captured for the frames' files, ``{filename: text}``.

        The file names are those of :attr:`frames` (terminal-safe); the text is
        as captured.
        """
        out: dict[str, str] = {}
        # The frames' files, then any other text held (a client copy's added sources).
        names = [r.source for r in self.model.frames] + list(self.model.sources or {})
        for filename in names:
            if filename and shown_name(filename) not in out:
                text = self._snapshot.source(filename)
                if text is not None:
                    out[shown_name(filename)] = text
        return out

    def version_differences(self) -> list[VersionDifference]:
        """Versions recorded on the worker that differ from this machine's."""
        return compare_versions(self.model)

    def locate_sources(
        self, paths: Sequence[str] = (), *, rerun: bool = True, directory: str | None = "."
    ) -> SourceReport:
        """Find the verified source of every frame and by-value function.

        Candidates: the snapshot, this session (``__main__``, IPython's cells),
        ``paths`` (scripts, notebooks, nbconvert exports), then the notebooks
        and ``*.py`` files of ``directory``.  A definition is taken only when
        its code equals the code that ran (see ``replay._sources.report``).
        ``rerun`` unpickles the whole call; otherwise only its function is
        tried.  The report says what was found, what is unknown and why, and
        which modules differ here; :meth:`debug` and :meth:`post_mortem` print it.
        """
        roots, no_code = self._code(rerun)
        environment = self.model.environment
        python = environment.python if environment is not None else None
        report = locate_sources(
            frame_records(self.model.frames),
            self.sources,
            roots,
            paths=paths,
            directory=os.path.abspath(directory) if directory is not None else None,
            rerun=rerun,
            no_code=no_code,
            python=python.version if python is not None else None,
        )
        self._located[rerun] = report
        self.__dict__.pop("frames", None)  # recomputed where the sources are
        return report

    def _code(self, rerun: bool) -> tuple[list[object], str]:
        """The code to check sources against, and why there is none when there is none.

        ``rerun`` unpickles the whole call (the re-run needs it anyway);
        otherwise only its function is tried, and a failure to load it is a
        reason, not an error.
        """
        no_code = "the snapshot holds no call"
        call = self.model.call
        if rerun:
            return list(self.call), no_code
        if call is None or call.func is None:
            return [], no_code
        try:
            return [self._snapshot.load(call.func)], no_code
        except snapshot.SnapshotError as exc:
            return [], f"the function cannot be loaded here ({exc})"

    def _report(self) -> SourceReport:
        """The report the captured frames are shown by: the last made, else one for them."""
        report = self._located.get(False) or self._located.get(True)
        return report if report is not None else self.locate_sources(rerun=False)

    def source_report(self, *, rerun: bool = True) -> SourceReport:
        """The last :meth:`locate_sources` report for this mode (searching the current
        directory when there is none yet)."""
        return self._located.get(rerun) or self.locate_sources(rerun=rerun)

    def install_sources(self, *, rerun: bool = True) -> list[str]:
        """Make the verified sources visible to debuggers; return the warnings to show.

        What a debugger shows of a text is escaped line by line, as any text
        from the snapshot is (a genuine file's lines are unchanged).
        """
        report = self.source_report(rerun=rerun)
        report.install(source_text)
        return report.warnings

    # -- re-running ----------------------------------------------------------
    def run(self) -> Any:
        """Re-execute ``func(*args, **kwargs)`` and return or raise what it does.

        An ``async def`` function is awaited (in a fresh event loop), as the
        worker awaited it.  A worker's death is re-run under its conditions:
        the worker's memory limit (``memory_limit``: ``"worker"``, bytes, or
        None for none) and ``os._exit`` raising ``ProcessExit``.

        First, every by-value function whose source is verified is pointed at
        it (:meth:`install_sources`): the traceback it raises, IPython's
        ``%debug``, pdb and ``inspect.getsource`` then show that source.
        """
        func, args, kwargs = self.call
        self.install_sources(rerun=True)
        with death_conditions(self.model, self.memory_limit):
            return finish(func(*args, **kwargs))

    def replay(self, *, debugger: Debugger | None = None) -> Outcome:
        """Re-execute the call, catching what it raises, and judge the outcome."""
        call = self.call
        self.install_sources(rerun=True)
        with death_conditions(self.model, self.memory_limit):
            return call_and_judge(
                self.model, call, driver(debugger, self.model), self._snapshot.result
            )

    def debug(
        self,
        debugger: DebuggerChoice = None,
        *,
        out: TextIO | None = None,
        err: TextIO | None = None,
    ) -> Outcome:
        """Re-execute the call, say whether it reproduced, and debug it where it raised.

        The replayed traceback goes to ``err``, the verdict to ``out`` (default
        ``sys.stderr`` and ``sys.stdout``), as ``python -m replay`` prints them.
        ``debugger`` is ``"pdb"`` (the default, or what ``PYTHONBREAKPOINT``
        names), ``"ipdb"``, ``"pudb"``, ``"debugpy"``, or ``False`` for none.
        """
        chosen = choose(debugger)
        out, err = out or sys.stdout, err or sys.stderr
        call = self.call  # unpickled before waiting for an IDE to attach
        report = self.source_report(rerun=True)
        say_each(err, report.messages())
        say(out, f"Re-running {callable_name(call[0])} with the captured arguments...")
        if chosen is not None and chosen.attach is not None:
            chosen.attach(self.path, call, report, out, err)
        self.install_sources(rerun=True)
        # A worker's death is re-run under its conditions (memory limit, os._exit).
        with death_conditions(self.model, self.memory_limit) as notes:
            for note in notes:
                say(out, note)
            outcome = call_and_judge(
                self.model, call, driver(chosen, self.model), self._snapshot.result
            )
        show_outcome(outcome, self.model, self._captured_sources(), chosen, out, err)
        return outcome

    def _captured_sources(self) -> Mapping[str, str]:
        try:
            return self.sources
        except snapshot.SnapshotError:
            return {}

    def check(self, *, sources: Sequence[str] = (), **options: Any) -> CheckResult:
        """Re-run the call with this machine's code in a process of its own, and judge it
        as ``python -m replay check`` does (``options``: ``key``, ``allow_unsigned``,
        ``timeout``: :class:`replay._check.runner.CheckOptions`).  A death runs under
        :attr:`memory_limit`; a by-value function as ``sources`` define it now."""
        from .._check.runner import CheckOptions, check_one

        settings = CheckOptions(sources=tuple(sources), memory_limit=self.memory_limit, **options)
        return check_one(self.path, settings)

    # -- the captured frames -------------------------------------------------
    def frames_exception(self) -> BaseException:
        """The captured exception for a debugger's title line, or a stand-in naming it."""
        try:
            exception = self.exception
        except snapshot.SnapshotError:
            exception = None
        if isinstance(exception, BaseException):
            return exception
        error = self.model.error or snapshot.Error()
        return RuntimeError(
            for_terminal(f"{error.type or '?'}: {error.message or ''}", one_line=True)
        )

    def traceback(self) -> types.TracebackType | None:
        """A real traceback over the captured frames and their locals.

        The frames' verified sources are put into ``linecache`` first, so that
        ``traceback`` and debuggers show them (and no line of a file that differs).
        """
        self._report().install(source_text)
        return build_traceback(self.frames)

    def post_mortem(
        self,
        debugger: DebuggerChoice = None,
        *,
        out: TextIO | None = None,
        err: TextIO | None = None,
    ) -> None:
        """Open ``debugger`` on the frames captured at the raise; nothing is re-run.

        With ``False`` (or ``PYTHONBREAKPOINT=0``) the frames and their locals
        are printed to ``out`` instead.
        """
        chosen = choose(debugger)
        out, err = out or sys.stdout, err or sys.stderr
        require_frames(chosen, self.model, self.path)
        # Sources first: the frames take their file names from where the source was found.
        say_each(err, self.source_report(rerun=False).messages())
        self.install_sources(rerun=False)
        frames = self.frames
        if chosen is None:
            print_frames(frames, out)
            return
        announce_frames(chosen, len(frames), out)
        tb = self.traceback()
        assert tb is not None
        run_debugger(chosen, tb, self.frames_exception())
        end_prompt_line(out)
