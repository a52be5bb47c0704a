r"""What a user sees while NUTS runs: a progress line on stderr, and an early warning when it will be slow.

nutpie reports every chain's progress (draws done, leapfrog steps so far, run time) to a callback
on its own thread. The fit runs nutpie's sampler in the background and waits for it in slices of
:data:`POLL_SECONDS`; between slices the main thread reads the latest report, writes one progress
line to stderr (rewritten in place on a terminal; a new line every tenth of the run elsewhere, so
that logs and notebooks' captured output stay readable) and, once, warns when the run will take
minutes. In a Jupyter notebook nutpie's own HTML bar is shown instead of the line.

The time left is estimated from the warm-up as the issue asked, gradients per draw times the cost
of a gradient:

.. math::
    T_{\text{left}} = \frac{g\,s \sum_c (N_c - n_c)}{\min(\text{cores}, \text{chains})},\qquad
    g = \frac{\sum_c t_c}{\sum_c S_c},

with ``N_c`` and ``n_c`` chain ``c``'s total and finished draws, ``S_c`` and ``t_c`` its leapfrog
steps (one gradient each) and run time, and ``s`` the gradients per draw over the most recent
reports (:data:`WINDOW_DRAWS` draws or more across chains; all draws so far before that). The
recent window matters because the warm-up shrinks the step size as it goes, so trajectories
lengthen: a whole-run average would underestimate. Chains beyond the number of cores start when
others finish, hence the division by the number that run at once.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import warnings
from dataclasses import dataclass

POLL_SECONDS = 0.5  # how often the fit looks at the sampler (and the line is redrawn)
SLOW_SECONDS = 120.0  # warn when a fit is expected to take longer than this
WARN_AFTER_SECONDS = 3.0  # ... but not before the warm-up has run this long (the estimate settles)
WINDOW_DRAWS = 40  # draws across chains behind the recent gradients-per-draw estimate
MIN_DRAWS = 10  # draws across chains before anything is estimated
# where a warning is not from: every file of the package, so it points at the caller's line
PACKAGE_FILES = (os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep,)


class SlowSamplingWarning(UserWarning):
    """NUTS is expected to take minutes; the message gives the estimate and faster alternatives."""


@dataclass(frozen=True)
class ChainState:
    """One chain's progress, as nutpie's ``ChainProgress`` reports it."""

    finished: int
    total: int
    tuning: bool
    started: bool
    steps: int  # leapfrog steps so far: one gradient each
    seconds: float
    divergences: int

    @classmethod
    def of(cls, progress) -> "ChainState":
        return cls(int(progress.finished_draws), int(progress.total_draws), bool(progress.tuning),
                   bool(progress.started), int(progress.total_num_steps), progress.runtime_ms / 1000.0,
                   int(progress.divergences))


def seconds_left(states: list[ChainState], window: tuple[int, int] | None, concurrency: int) -> float | None:
    """The module docstring's estimate; ``window`` is ``(draws, steps)`` over the recent reports
    (None: use every draw so far). None until :data:`MIN_DRAWS` draws are done."""
    finished = sum(s.finished for s in states)
    steps = sum(s.steps for s in states)
    seconds = sum(s.seconds for s in states)
    if finished < MIN_DRAWS or steps == 0:
        return None
    per_draw = window[1] / window[0] if window and window[0] >= WINDOW_DRAWS else steps / finished
    per_gradient = seconds / steps
    remaining = sum(s.total - s.finished for s in states)
    return per_draw * per_gradient * remaining / max(concurrency, 1)


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"


class Progress:
    """nutpie's ``progress_callback`` (from its thread) and the main thread's view of it."""

    def __init__(self, chains: int, concurrency: int, *, show: bool, advice: str = "", stream=None):
        self.chains, self.concurrency, self.show, self.advice = chains, concurrency, show, advice
        self.stream = sys.stderr if stream is None else stream
        self._lock = threading.Lock()
        self._states: list[ChainState] = []
        self._history: list[tuple[int, int]] = []  # (draws, steps) at each poll, for the recent window
        self._warned = False
        self._printed_tenth = -1
        self._line_open = False

    def __call__(self, progress) -> None:
        states = [ChainState.of(p) for p in progress]
        with self._lock:
            self._states = states

    def states(self) -> list[ChainState]:
        with self._lock:
            return list(self._states)

    def wait(self, sampler):
        """The sampler's trace, reporting between waits; Ctrl-C stops the sampler, then raises."""
        started = time.perf_counter()
        try:
            while True:
                try:
                    trace = sampler.wait(timeout=POLL_SECONDS)
                    break
                except TimeoutError:
                    self.update(time.perf_counter() - started)
        except KeyboardInterrupt:
            sampler.cancel()
            self._close_line()
            raise
        self.finish(time.perf_counter() - started)
        return trace

    def update(self, elapsed: float) -> None:
        states = self.states()
        if not states:
            return
        draws, steps = sum(s.finished for s in states), sum(s.steps for s in states)
        self._history.append((draws, steps))
        left = seconds_left(states, self._window(), self.concurrency)
        if left is not None and not self._warned and elapsed >= WARN_AFTER_SECONDS \
                and elapsed + left >= SLOW_SECONDS:
            self._warned = True
            self._close_line()
            warnings.warn(self._slow_message(states, elapsed, left), SlowSamplingWarning,
                          skip_file_prefixes=PACKAGE_FILES)
        if self.show:
            self._draw(states, elapsed, left)

    def finish(self, elapsed: float) -> None:
        states = self.states()
        if self.show and states:
            total = sum(s.total for s in states)
            divergent = sum(s.divergences for s in states)
            self._close_line()
            print(f"NUTS: {self.chains} chains, {total} iterations in {_clock(elapsed)}, {divergent} divergent",
                  file=self.stream, flush=True)

    def _window(self) -> tuple[int, int] | None:
        """(draws, steps) since the oldest poll that is still at least WINDOW_DRAWS draws back."""
        if len(self._history) < 2:
            return None
        draws, steps = self._history[-1]
        for old_draws, old_steps in reversed(self._history[:-1]):
            if draws - old_draws >= WINDOW_DRAWS:
                return draws - old_draws, steps - old_steps
        return None

    def _draw(self, states: list[ChainState], elapsed: float, left: float | None) -> None:
        done, total = sum(s.finished for s in states), sum(s.total for s in states)
        warming = sum(s.tuning and s.started for s in states)
        chains_word = "chain" if warming == 1 else "chains"
        text = (f"NUTS: {done}/{total} iterations ({done / max(total, 1):.0%})"
                f"{f', {warming} {chains_word} warming up' if warming else ''}, "
                f"{sum(s.divergences for s in states)} divergent, {_clock(elapsed)} elapsed"
                f"{'' if left is None else f', about {_clock(left)} left'}")
        if self.stream.isatty():
            print(f"\r{text}\x1b[K", end="", file=self.stream, flush=True)
            self._line_open = True
        else:  # a log or a pipe: a line per tenth of the run, never a wall of carriage returns
            tenth = 10 * done // max(total, 1)
            if tenth > self._printed_tenth:
                self._printed_tenth = tenth
                print(text, file=self.stream, flush=True)

    def _close_line(self) -> None:
        if self._line_open:
            print(file=self.stream, flush=True)
            self._line_open = False

    def _slow_message(self, states: list[ChainState], elapsed: float, left: float) -> str:
        steps, draws = sum(s.steps for s in states), max(sum(s.finished for s in states), 1)
        per_gradient = sum(s.seconds for s in states) / max(steps, 1)
        return (f"this NUTS fit will take about {_clock(elapsed + left)} (estimated from the warm-up so far: "
                f"{steps / draws:.0f} gradient evaluations a draw at {per_gradient * 1e3:.2g} ms each, "
                f"{self.chains} chains on {self.concurrency} cores). {self.advice}Fewer draws (fit(..., "
                "draws=500)) or chains cost proportionally less; long trajectories (hundreds of gradients a "
                "draw) usually mean columns on very different scales: standardize X.")
