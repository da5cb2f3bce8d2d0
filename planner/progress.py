"""The one live log of long runs (EF, PH, L-shaped, sizing, decomposition, policies): a message line or
an aligned row of iteration, lower bound, upper bound, gap and elapsed time, with the rows kept; a
heartbeat line while one long solver call runs; and the wall-clock deadline of the running command
(``--time-limit``), which loops of solver calls consult before starting another call."""

from __future__ import annotations

import contextlib
import io
import math
import os
import sys
import threading
import time

from planner.results import relative_gap


_DEADLINE: list[float] = []  # perf_counter times at which the enclosing wall-clock limits end (innermost last)


@contextlib.contextmanager
def wall_clock_limit(seconds: float | None, started: float | None = None):
    """Within the block, ``seconds_left()`` counts down to ``started + seconds`` (default start: now);
    nested limits never extend an enclosing one. ``None``: no limit added."""
    if seconds is None:
        yield
        return
    end = (time.perf_counter() if started is None else started) + float(seconds)
    _DEADLINE.append(min([end] + _DEADLINE[-1:]))
    try:
        yield
    finally:
        _DEADLINE.pop()


def seconds_left() -> float | None:
    """Seconds until the innermost wall-clock limit ends (may be negative); None without a limit."""
    return _DEADLINE[-1] - time.perf_counter() if _DEADLINE else None


_HELD: list = []  # the running command's answer once it exists: (what, result, folder of its tables)


def hold_answer(what: str, result, folder=None) -> None:
    """Record the command's answer as soon as it exists (a result with lower bound, upper bound and gap):
    the hard stop of a wall-clock limit then reports it instead of failing (``planner.cli``)."""
    _HELD[:] = [(what, result, folder)]


def held_answer():
    """(what, result, folder) recorded by ``hold_answer``, or None."""
    return _HELD[-1] if _HELD else None


def release_answer() -> None:
    """Forget the held answer and a caught hard stop (a new command starts)."""
    _HELD.clear()
    _CAUGHT.clear()


_CAUGHT: list = []  # set when a job caught the hard stop to report what it holds


def catch_hard_stop() -> None:
    """A job caught the hard stop of the wall-clock limit and now reports the answer it holds: the
    command's alarm raises no further stop."""
    _CAUGHT.append(True)


def hard_stop_was_caught() -> bool:
    return bool(_CAUGHT)


def live_stream(stream):
    """A stream that still reaches the terminal while a solver call captures the file descriptors of
    stdout (Pyomo's HiGHS interface does): a duplicate of ``stream``'s descriptor when it has one."""
    try:
        return os.fdopen(os.dup(stream.fileno()), "w", buffering=1), True
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):  # StringIO, pytest's capture
        return stream, False


class Progress:
    """Prints ``[elapsed] title: text`` messages and, under a header printed once, one row per update;
    silent when ``enabled`` is False. ``rows`` keeps (iteration, lower, upper, seconds) of every update."""

    def __init__(self, title: str, enabled: bool = True, stream=None):
        self.title = title
        self.enabled = enabled
        self.stream = stream or sys.stdout
        self.start = time.perf_counter()
        self.rows: list[tuple] = []
        self._header = False
        self.last_line = self.start  # when this log last printed a line (the heartbeat stays silent until due)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def message(self, text: str) -> None:
        if self.enabled:
            print(f"[{self.elapsed:7.1f}s] {self.title}: {text}", file=self.stream, flush=True)
            self.last_line = time.perf_counter()

    @contextlib.contextmanager
    def heartbeat(self, what, every_s: float = 5.0):
        """While the block runs, a line ``what(): still running`` every ``every_s`` seconds without another
        line of this log (solver calls release the interpreter, so the line appears during a long solve);
        ``what`` is a string or a function returning one."""
        if not self.enabled:
            yield
            return
        stream, own = live_stream(self.stream)
        stop = threading.Event()

        def beat():
            while not stop.wait(min(every_s, 1.0)):
                if time.perf_counter() - self.last_line >= every_s:
                    text = what() if callable(what) else what
                    print(f"[{self.elapsed:7.1f}s] {self.title}: {text}: still running", file=stream, flush=True)
                    self.last_line = time.perf_counter()

        thread = threading.Thread(target=beat, name=f"heartbeat {self.title}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            if own:
                stream.close()

    def update(self, iteration, lower=None, upper=None, **extra) -> None:
        self.rows.append((iteration, lower, upper, self.elapsed))
        if not self.enabled:
            return
        if not self._header:
            cols = ["iter", "lower bound", "upper bound", "gap", "time"] + list(extra)
            print(f"{self.title}\n" + "  ".join(f"{c:>14}" for c in cols), file=self.stream, flush=True)
            self._header = True
        gap = relative_gap(lower, upper)
        cells = [
            f"{iteration:>14}",
            f"{lower:>14.6g}" if lower is not None and math.isfinite(lower) else f"{'-':>14}",
            f"{upper:>14.6g}" if upper is not None and math.isfinite(upper) else f"{'-':>14}",
            f"{100 * gap:>13.3f}%" if math.isfinite(gap) else f"{'-':>14}",
            f"{self.elapsed:>13.1f}s",
        ] + [f"{v:>14.6g}" if isinstance(v, float) else f"{v!s:>14}" for v in extra.values()]
        print("  ".join(cells), file=self.stream, flush=True)
        self.last_line = time.perf_counter()
