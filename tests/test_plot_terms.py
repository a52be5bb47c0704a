"""Plots per term (issue 22): ``plots.terms`` draws ``term_summary``'s numbers (checked on the
artists: the same floats, so tolerance 1e-12 relative), and ``plots.coefficients`` groups a
factor's rows under one bracket named by its term."""

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

import bayesreg as br  # noqa: E402
from bayesreg import plots  # noqa: E402
from bayesreg.sampling import SamplingWarning  # noqa: E402
from seeds import shifted  # noqa: E402

FORMULA = "y ~ x1 + C(region) + x2 + C(arm)"


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(shifted(41))
    n = 100
    df = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n),
                       "region": rng.choice(["north", "south", "west", "east"], n), "arm": rng.choice(["a", "b", "c"], n)})
    df["y"] = df.x1 + 0.8 * (df.region == "south") + rng.normal(size=n)
    return df


@pytest.fixture(scope="module")
def fit(frame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)  # 100 draws: ESS warnings are expected
        yield br.LinearRegression(br.GroupLaplace(0.5), formula=FORMULA).fit(
            frame, draws=100, tune=100, chains=2, random_seed=shifted(8), progressbar=False)
    plt.close("all")


def _markers(ax, *, face=None, edge=None):
    """Offsets of the scatter points drawn with that face or edge colour, as (x, y) rows."""
    found = [c for c in ax.collections if isinstance(c, PathCollection) and (
        (face is not None and len(c.get_facecolors()) and np.allclose(c.get_facecolors()[0], to_rgba(face)))
        or (edge is not None and len(c.get_edgecolors()) and np.allclose(c.get_edgecolors()[0], to_rgba(edge))))]
    return np.concatenate([c.get_offsets() for c in found]) if found else np.empty((0, 2))


def test_terms_plot_draws_the_term_table(fit, frame):
    """Posterior means and MAPs at term_summary's values, one row per term, the first on top; the
    probability labels are the table's; a MAP fit shows its MAP; size without rows is refused."""
    figure = plots.terms(fit, frame, size=0.3, ci_prob=0.9)
    ax = figure.axes[0]
    table = fit.term_summary(frame, size=0.3, ci_prob=0.9)
    labels = [tick.get_text() for tick in sorted(ax.get_yticklabels(), key=lambda tick: -tick.get_position()[1])]
    assert labels == ["x1", "C(region) (3)", "x2", "C(arm) (2)"]  # top to bottom, in the formula's order
    means = _markers(ax, face="white")
    np.testing.assert_allclose(means[np.argsort(-means[:, 1]), 0], table["contribution_sd_mean"], rtol=1e-12)
    maps = _markers(ax, edge="crimson")
    np.testing.assert_allclose(maps[np.argsort(-maps[:, 1]), 0], table["contribution_sd_map"], rtol=1e-12)
    assert [t.get_text() for t in sorted(ax.texts, key=lambda t: -t.xy[1])] == [
        f"P(> 0.3) = {p:.2f}" for p in table["p_contribution_sd_gt_0.3"]]
    assert len(ax.texts) == 4 and any(line.get_xdata()[0] == 0.3 for line in ax.get_lines())
    norms = _markers(plots.terms(fit).axes[0], face="white")
    np.testing.assert_allclose(norms[np.argsort(-norms[:, 1]), 0], fit.term_summary()["norm_mean"], rtol=1e-12)
    point = br.LinearRegression(br.GroupLaplace(0.5), sigma=1.0, formula=FORMULA).fit(frame, method="map")
    maps = _markers(plots.terms(point, frame).axes[0], edge="crimson")
    np.testing.assert_allclose(maps[np.argsort(-maps[:, 1]), 0], point.term_summary(frame)["contribution_sd_map"],
                               rtol=1e-12)
    with pytest.raises(ValueError, match="pass X"):
        plots.terms(fit, size=0.3)
    plt.close("all")


def test_coefficients_bracket_the_rows_of_each_factor(fit, frame):
    """Each term of several columns is named right of the forest, its bracket spans its rows (the
    labels' heights) and every other one has a band; a fit whose terms are single columns has none."""
    figure = plots.coefficients(fit)
    forest = next(a for a in figure.axes if a.get_xlabel() == "coefficient")
    labels = next(a for a in figure.axes if a is not forest)
    height = {t.get_text(): t.get_position()[1] for t in labels.texts}
    named = {t.get_text(): t.get_position()[1] for t in forest.texts}
    assert set(named) == {"C(region)", "C(arm)"}
    for term, columns in fit.terms_.items():
        if len(columns) > 1:
            rows = [height[c] for c in columns]
            assert named[term] == pytest.approx(np.mean([min(rows), max(rows)]))
    bands = [p for p in forest.patches if isinstance(p, Rectangle) and p.get_facecolor()[:3] == to_rgba("0.93")[:3]]
    assert len(bands) == 1  # C(region): the first; C(arm), the second, has no band
    X = pd.get_dummies(frame[["x1", "x2"]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        plain = br.LinearRegression(br.Normal(1.0)).fit(X, frame.y, draws=50, tune=50, chains=1,
                                                        random_seed=shifted(9), progressbar=False)
    plain_forest = next(a for a in plots.coefficients(plain).axes if a.get_xlabel() == "coefficient")
    assert not plain_forest.texts
    plt.close("all")
