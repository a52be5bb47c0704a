"""Progress while NUTS runs, and the early warning when a fit will take minutes (issue 20).

The estimate is checked against its formula on made-up chain reports (bayesreg.sampling.progress's
docstring), the display on streams that are and are not terminals, and the wiring on real fits:
progress on stderr unless ``progressbar=False``, and a SlowSamplingWarning that points at the
caller's line once the estimate passes the threshold (lowered here so a small fit crosses it).
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

import bayesreg as br
from bayesreg.model import spec as model_spec
from bayesreg.sampling import progress as pg
from seeds import shifted


def _chain(finished, total=2000, steps=None, seconds=None, tuning=True, started=True, divergences=0):
    steps = 10 * finished if steps is None else steps
    return pg.ChainState(finished, total, tuning, started, steps, 0.001 * steps if seconds is None else seconds,
                         divergences)


def test_time_left_is_gradients_per_draw_times_cost_per_gradient_over_the_cores():
    """Two chains of 1000 draws done (10 gradients a draw, 1 ms a gradient), two not started, 2 cores:
    2000 draws left x 10 x 1 ms / 2 = 10 s."""
    states = [_chain(1000, total=1000, tuning=False), _chain(1000, total=1000, tuning=False),
              _chain(0, total=1000, started=False), _chain(0, total=1000, started=False)]
    assert pg.seconds_left(states, None, concurrency=2) == pytest.approx(2000 * 10 * 0.001 / 2)
    assert pg.seconds_left([_chain(4), _chain(4)], None, concurrency=2) is None  # too early to say


def test_the_recent_window_follows_lengthening_trajectories():
    """The warm-up shrinks the step size: 10 gradients a draw on average, 50 over the last 40 draws.
    The estimate uses the 50 (the whole-run average would say a fifth of the time)."""
    states = [_chain(200, steps=2000, seconds=2.0)]
    recent = pg.seconds_left(states, (40, 2000), concurrency=1)
    assert recent == pytest.approx(1800 * 50 * 0.001)
    assert pg.seconds_left(states, (20, 1000), concurrency=1) == pytest.approx(1800 * 10 * 0.001)  # window too small


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def _run(progress, reports):
    for elapsed, states in reports:
        progress(states_to_nutpie(states))
        progress.update(elapsed)
    progress.finish(reports[-1][0])


def states_to_nutpie(states):
    """nutpie's ChainProgress objects, as attributes (what the callback receives)."""
    class Report:
        def __init__(self, s):
            self.finished_draws, self.total_draws, self.tuning, self.started = s.finished, s.total, s.tuning, s.started
            self.total_num_steps, self.runtime_ms, self.divergences = s.steps, s.seconds * 1000, s.divergences
    return [Report(s) for s in states]


REPORTS = [(0.1 * k, [_chain(20 * k, total=2000), _chain(20 * k, total=2000)]) for k in range(1, 101)]


def test_a_log_gets_a_line_per_tenth_and_a_terminal_one_line_rewritten():
    log, terminal = io.StringIO(), _Terminal()
    _run(pg.Progress(2, 2, show=True, stream=log), REPORTS)
    _run(pg.Progress(2, 2, show=True, stream=terminal), REPORTS)
    lines = log.getvalue().splitlines()
    assert 10 <= len(lines) <= 12 and "\r" not in log.getvalue()
    assert lines[-1] == "NUTS: 2 chains, 4000 iterations in 0:10, 0 divergent"
    assert terminal.getvalue().count("\r") == len(REPORTS) and terminal.getvalue().endswith("0 divergent\n")
    quiet = io.StringIO()
    _run(pg.Progress(2, 2, show=False, stream=quiet), REPORTS)
    assert quiet.getvalue() == ""


@pytest.fixture
def data():
    rng = np.random.default_rng(shifted(0))
    X = rng.normal(size=(200, 3))
    return X, X @ [1.0, 0.0, -0.5] + rng.normal(size=200)


def test_progress_reaches_stderr_unless_switched_off(data, capfd):
    settings = dict(draws=300, tune=300, chains=2, random_seed=shifted(1))
    br.LinearRegression(br.Normal(1.0)).fit(*data, **settings)
    shown = capfd.readouterr().err
    assert "NUTS: 2 chains, 1200 iterations in" in shown
    br.LinearRegression(br.Normal(1.0)).fit(*data, progressbar=False, **settings)
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("family", ["linear", "logistic"])
def test_a_slow_fit_warns_early_at_the_callers_line(data, monkeypatch, family):
    """With the threshold at 0 s every fit is 'slow': the warning fires once, from the warm-up,
    names the estimate, and points at this file; the logistic one offers the surrogate."""
    monkeypatch.setattr(pg, "SLOW_SECONDS", 0.0)
    monkeypatch.setattr(pg, "WARN_AFTER_SECONDS", 0.0)
    monkeypatch.setattr(pg, "POLL_SECONDS", 0.01)  # a look every 10 ms: even this small fit is seen running
    # the non-centred horseshoe's long trajectories make the fit run for seconds, so polls see it
    # running; linear regression would otherwise integrate the coefficients out and finish first
    monkeypatch.setattr(model_spec, "mixture_pays", lambda *args: False)
    X, y = data
    prior = br.RegularizedHorseshoe(1)
    estimator = br.LinearRegression(prior) if family == "linear" else br.LogisticRegression(prior)
    target = y if family == "linear" else (y > 0).astype(int)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimator.fit(X, target, draws=500, tune=500, chains=2, random_seed=shifted(1), progressbar=False)
    slow = [w for w in caught if issubclass(w.category, pg.SlowSamplingWarning)]
    assert len(slow) == 1 and slow[0].filename == __file__
    assert "will take about" in str(slow[0].message) and "gradient evaluations a draw" in str(slow[0].message)
    assert ("method='surrogate'" in str(slow[0].message)) == (family == "logistic")
