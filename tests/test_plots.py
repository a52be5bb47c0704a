"""Every plot renders, returns a Figure, and draws what it claims (checked on the artists)."""

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import bayesreg as br  # noqa: E402
from bayesreg import plots  # noqa: E402
from bayesreg.sampling import SamplingWarning  # noqa: E402


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(80, 3))
    y = 1 + X @ [2.0, 0.0, -1.0] + rng.normal(size=80)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        est = br.LinearRegression(br.Laplace(1.0)).fit(X, y, draws=300, tune=300, chains=2, random_seed=1,
                                                       progressbar=False)
    yield X, y, est
    plt.close("all")


def test_coefficient_plot_marks_the_map(fitted):
    X, y, est = fitted
    fig = plots.coefficients(est)
    ax = fig.axes[0]
    map_line = next(line for line in ax.lines if line.get_label().startswith("MAP"))
    np.testing.assert_allclose(map_line.get_xdata(), est.map_.coef)


def test_prior_posterior_and_predictive_render(fitted, tmp_path):
    X, y, est = fitted
    fig = plots.prior_posterior(est, ["x0", "x1"])
    assert len(fig.axes) == 2
    prior_line = next(line for line in fig.axes[0].lines if line.get_label() == "prior")
    grid, density = prior_line.get_data()
    # the plotted prior is the Laplace(1) density
    np.testing.assert_allclose(density, 0.5 * np.exp(-np.abs(grid)), rtol=1e-12)
    plots.posterior_predictive(est, X, y).savefig(tmp_path / "ppc.png")


def test_shrinkage_left_panel_is_the_lasso_path(fitted):
    X, y, _ = fitted
    scales = [0.01, 0.1, 1.0]
    fig = plots.shrinkage(X, y, kind="lasso", scales=scales, sigma=1.0, draws=100)
    left = fig.axes[0]
    for j, line in enumerate(left.lines[: X.shape[1]]):
        expected = [br.LinearRegression(br.Laplace(s), sigma=1.0).fit(X, y, method="map").coef_[j] for s in scales]
        np.testing.assert_allclose(line.get_ydata(), expected)


def test_logistic_calibration_plot(breast_cancer):
    X, y = breast_cancer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        clf = br.LogisticRegression(br.Normal(1.0)).fit(X[:, :4], y, draws=200, tune=200, chains=2,
                                                        random_seed=0, progressbar=False)
    fig = plots.posterior_predictive(clf, X[:, :4], y)
    assert [ax.get_title() for ax in fig.axes][1] == "calibration"
