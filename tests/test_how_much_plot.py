"""The "how much to regularize?" figure draws the CV curve, the evidence and a learned scale's posterior."""

import math
import types

import matplotlib
from seeds import shifted

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402
from scipy import linalg  # noqa: E402

import bayesreg as br  # noqa: E402
from bayesreg import plots  # noqa: E402


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(shifted(2))
    X = rng.normal(size=(50, 4)) * [1.0, 5.0, 0.2, 1.0]
    y = 2.0 + X @ [0.5, 0.1, 3.0, 0.0] + rng.normal(size=50)
    return X, y


def direct_log_evidence(X, y, scale, sigma):
    """Flat intercept: project out the ones direction, then a dense Gaussian log density (slogdet)."""
    n = len(y)
    Q = linalg.null_space(np.ones((1, n)))
    C = Q.T @ (sigma**2 * np.eye(n) + (X * scale**2) @ X.T) @ Q
    z = Q.T @ y
    return -0.5 * ((n - 1) * math.log(2 * math.pi) + np.linalg.slogdet(C)[1] + z @ np.linalg.solve(C, z)) \
        - 0.5 * math.log(n)


def test_curves_are_the_references(data):
    X, y = data
    sigma = 1.1
    scales = np.array([0.01, 0.1, 1.0])
    fig = plots.how_much(X, y, sigma=sigma, scales=scales)
    cv_ax, evidence_ax = fig.axes
    factors = y.std() / X.std(axis=0)
    # leave-one-out by brute force: refit the MAP without row i, predict row i
    for k, s in enumerate(scales):
        errors = []
        for i in range(len(y)):
            keep = np.arange(len(y)) != i
            fit = br.LinearRegression(br.Normal(s * factors), sigma=sigma).fit(X[keep], y[keep], method="map")
            errors.append((fit.predict(X[i:i + 1])[0] - y[i]) ** 2)
        assert cv_ax.lines[0].get_ydata()[k] == pytest.approx(np.mean(errors), rel=1e-9)
        assert evidence_ax.lines[0].get_ydata()[k] == pytest.approx(
            direct_log_evidence(X, y, s * factors, sigma), rel=1e-10)
    eb = br.LinearRegression(br.Normal(1.0, autoscale=True), sigma=sigma).fit(X, y, method="empirical_bayes")
    assert evidence_ax.lines[1].get_xdata()[0] == pytest.approx(eb.prior_.scale[0] / factors[0], rel=1e-12)


def test_learned_scale_panel(data):
    X, y = data
    draws = np.random.default_rng(shifted(0)).lognormal(mean=-1.0, sigma=0.3, size=(2, 100))
    posterior = xr.Dataset({"prior_scale": (("chain", "draw"), draws)})
    learned = types.SimpleNamespace(idata_=xr.DataTree.from_dict({"posterior": posterior}))
    fig = plots.how_much(X, y, learned=learned)
    assert len(fig.axes) == 3
    assert fig.axes[2].lines[0].get_xdata()[0] == pytest.approx(np.median(draws))
    heights = [patch.get_height() for patch in fig.axes[2].patches]
    assert sum(heights) > 0


def test_prior_posterior_of_a_learned_scale(data):
    """The prior drawn under each histogram is N(0, (median tau * c_j)^2), c_j the autoscale factor."""
    import warnings

    from bayesreg.sampling import SamplingWarning
    from scipy import stats

    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        est = br.LinearRegression(br.Normal(br.HalfCauchy(1.0), autoscale=True), sigma=1.0).fit(
            X, y, draws=200, tune=300, chains=2, random_seed=shifted(1), progressbar=False)
    fig = plots.prior_posterior(est, ["x0", "x2"])
    tau = np.median(est.idata_["posterior"]["prior_scale"].to_numpy())
    for j, name in ((0, "x0"), (2, "x2")):
        ax = next(ax for ax in fig.axes if ax.get_title() == name)
        grid, density = next(line for line in ax.lines if line.get_label().startswith("prior")).get_data()
        np.testing.assert_allclose(density, stats.norm(0, tau * est.prior_.factor[j]).pdf(grid), rtol=1e-12)
    assert len(plots.how_much(X, y, learned=est, sigma=1.0).axes) == 3  # the real posterior of prior_scale


def test_cv_optimum_is_the_one_standard_error_range(data):
    """The CV panel shades the scales whose LOO MSE is within one standard error of the least
    (glmnet's lambda.1se rule) instead of printing the argmin of a flat curve.

    Reference: each row's squared LOO error by brute-force refits; SE of the least mean error
    = sd over rows (ddof=1) / sqrt(n); the range is the contiguous run of grid scales around
    the least error whose mean is within it.
    """
    X, y = data
    sigma = 1.1
    scales = np.geomspace(0.01, 10.0, 10)
    factors = y.std() / X.std(axis=0)
    errors = np.empty((len(y), len(scales)))
    for k, s in enumerate(scales):
        for i in range(len(y)):
            keep = np.arange(len(y)) != i
            fit = br.LinearRegression(br.Normal(s * factors), sigma=sigma).fit(X[keep], y[keep], method="map")
            errors[i, k] = (fit.predict(X[i:i + 1])[0] - y[i]) ** 2
    mean = errors.mean(axis=0)
    best = int(np.argmin(mean))
    threshold = mean[best] + errors[:, best].std(ddof=1) / math.sqrt(len(y))
    low, high = best, best
    while low > 0 and mean[low - 1] <= threshold:
        low -= 1
    while high < len(scales) - 1 and mean[high + 1] <= threshold:
        high += 1
    assert high > low  # the test data have a plateau: several grid scales are within one SE

    fig = plots.how_much(X, y, sigma=sigma, scales=scales)
    cv_ax = fig.axes[0]
    span = next(p for p in cv_ax.patches if p.get_label().startswith("within 1 SE"))
    xs = span.get_path().vertices[:, 0] if not hasattr(span, "get_x") else [span.get_x(), span.get_x() + span.get_width()]
    np.testing.assert_allclose([min(xs), max(xs)], [scales[low], scales[high]], rtol=1e-12)
    labels = [t.get_text() for t in cv_ax.get_legend().get_texts()]
    assert f"1-SE rule (strongest penalty): s = {scales[low]:.2g}" in labels
    assert not any(f"{scales[best]:.3g}" in label for label in labels)  # no argmin to three digits
    assert any(line.get_ydata()[0] == pytest.approx(threshold, rel=1e-9) for line in cv_ax.lines[1:])
