"""Every plot renders, returns a Figure, and draws what it claims (checked on the artists)."""

import math
import warnings

import matplotlib
from seeds import shifted

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from scipy import integrate, stats  # noqa: E402

import bayesreg as br  # noqa: E402
from bayesreg import plots, results  # noqa: E402
from bayesreg.sampling import SamplingWarning  # noqa: E402

SAMPLER = dict(draws=300, tune=300, chains=2, random_seed=shifted(1), progressbar=False)


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(shifted(4))
    X = rng.normal(size=(80, 3))
    y = 1 + X @ [2.0, 0.0, -1.0] + rng.normal(size=80)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        est = br.LinearRegression(br.Laplace(1.0)).fit(X, y, **SAMPLER)
    yield X, y, est
    plt.close("all")


def _map_markers(ax):
    crimson = to_rgba("crimson")
    found = [c for c in ax.collections if isinstance(c, PathCollection)
             and len(c.get_edgecolors()) and np.allclose(c.get_edgecolors()[0], crimson)]
    return np.array([c.get_offsets()[0] for c in found])  # one marker per coefficient (x, y)


def _mean_markers(ax):
    means = [c for c in ax.collections if isinstance(c, PathCollection)
             and len(c.get_facecolors()) and np.allclose(c.get_facecolors()[0], to_rgba("white"))]
    return np.array([c.get_offsets()[0] for c in means])


def test_forest_plot_shows_the_summary_intervals_and_marks_the_map(fitted):
    X, y, est = fitted
    fig = plots.coefficients(est, ci_prob=0.9)
    assert isinstance(fig, matplotlib.figure.Figure)
    ax = next(a for a in fig.axes if a.get_xlabel() == "coefficient")
    marks = _map_markers(ax)
    np.testing.assert_allclose(np.sort(marks[:, 0]), np.sort(est.map_.coef))
    means = _mean_markers(ax)
    table = est.summary(ci_prob=0.9).loc[est.feature_names_]
    np.testing.assert_allclose(np.sort(means[:, 0]), np.sort(table["mean"]), rtol=1e-10)
    # each MAP sits on its own coefficient's row, the row of that coefficient's posterior mean
    row_of_mean = dict(zip(np.round(means[:, 0], 10), means[:, 1]))
    for name, coef_map, mean in zip(est.feature_names_, est.map_.coef, table["mean"]):
        assert marks[np.isclose(marks[:, 0], coef_map)][0, 1] == row_of_mean[round(mean, 10)], name
    # the thin lines are the summary's 90% equal-tailed intervals
    segments = {tuple(np.round(line.get_xdata(), 8)) for line in ax.lines if len(line.get_xdata()) == 2}
    for low, high in table[["eti90_lb", "eti90_ub"]].to_numpy():
        assert (round(low, 8), round(high, 8)) in segments


def test_forest_plot_compares_fits_and_skips_the_missing_map(fitted):
    X, y, est = fitted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        horseshoe = br.LinearRegression(br.Horseshoe()).fit(X, y, **SAMPLER)
    fig = plots.coefficients({"lasso": est, "horseshoe": horseshoe})
    ax = next(a for a in fig.axes if a.get_xlabel() == "coefficient")
    marks = _map_markers(ax)
    drawn = marks[np.isfinite(marks[:, 0])]
    np.testing.assert_allclose(np.sort(drawn[:, 0]), np.sort(est.map_.coef))  # the horseshoe has no MAP
    assert len(_mean_markers(ax)) == 2 * X.shape[1]
    labels = [text.get_text() for legend in fig.legends for text in legend.get_texts()]
    assert {"lasso", "horseshoe", "MAP (penalized fit)"} <= set(labels)


def test_forest_plot_has_no_line_under_the_labels(fitted):
    """The labels column is text only: no spine (the stray line under the last label), no lines."""
    X, y, est = fitted
    fig = plots.coefficients(est)
    labels_ax = next(a for a in fig.axes if a.get_xlabel() != "coefficient")
    assert [name for name, spine in labels_ax.spines.items() if spine.get_visible()] == []
    assert len(labels_ax.lines) == 0
    assert {text.get_text() for text in labels_ax.texts} == set(est.feature_names_)


def _drawn_box(fig, artist):
    fig.canvas.draw()
    return artist.get_window_extent(fig.canvas.get_renderer())


@pytest.fixture(scope="module")
def mixed_units():
    """Columns in units a thousand times apart, so that raw coefficients differ by 1e6."""
    rng = np.random.default_rng(shifted(5))
    X = rng.normal(size=(80, 3)) * [1.0, 1000.0, 0.001]
    y = 3 + X @ [1.0, 0.002, 800.0] + rng.normal(size=80)
    above = (y > np.median(y)).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        linear = br.LinearRegression(br.Normal(1e4)).fit(X, y, **SAMPLER)
        logistic = br.LogisticRegression().fit(X, above, **SAMPLER)  # autoscaled: MAP per sd of order 1
    return {"linear": (X, y, linear), "logistic": (X, above, logistic)}


@pytest.mark.parametrize("family", ["linear", "logistic"])
def test_standardized_forest_plot_shows_effects_per_sd(family, mixed_units):
    """``standardize=True``: coefficient times sd(x_j) (over sd(y) for linear), sds of the training
    data with ddof=0 (as autoscale), computed here from the data the fit saw."""
    X, y, est = mixed_units[family]
    factor = X.std(axis=0) / (y.std() if family == "linear" else 1.0)
    fig = plots.coefficients(est, standardize=True)
    ax = next(a for a in fig.axes if "per sd" in a.get_xlabel())
    assert ("sd(y)" in ax.get_xlabel()) == (family == "linear")
    np.testing.assert_allclose(np.sort(_map_markers(ax)[:, 0]), np.sort(est.map_.coef * factor), rtol=1e-10)
    table = est.summary()
    means = np.sort(_mean_markers(ax)[:, 0])
    np.testing.assert_allclose(means, np.sort(table.loc[est.feature_names_, "mean"] * factor), rtol=1e-10)
    segments = {tuple(np.round(line.get_xdata(), 6)) for line in ax.lines if len(line.get_xdata()) == 2}
    for (low, high), f in zip(table.loc[est.feature_names_, ["eti94_lb", "eti94_ub"]].to_numpy(), factor):
        assert (round(low * f, 6), round(high * f, 6)) in segments
    assert "per standard deviation" in fig.texts[0].get_text()


def test_standardize_needs_the_training_sds(fitted, tmp_path):
    """The sds travel with the estimator (a saved file too); without them, a clear error."""
    X, y, est = fitted
    est.save(tmp_path / "fit.zip")
    loaded = br.load(tmp_path / "fit.zip")
    np.testing.assert_array_equal(loaded.x_sd_, X.std(axis=0))
    assert loaded.y_sd_ == y.std()
    stripped = br.LinearRegression(br.Laplace(1.0))
    stripped.__dict__.update({k: v for k, v in est.__dict__.items() if k not in ("x_sd_", "y_sd_")})
    with pytest.raises(ValueError, match="refit"):
        plots.coefficients(stripped, standardize=True)


def test_every_plot_defaults_to_the_package_interval_level(fitted, classifier, monkeypatch):
    """No plot hard-codes a level: each default follows ``results.CI_PROB`` at call time."""
    X, y, est = fitted
    Xc, labels, clf = classifier
    monkeypatch.setattr(results, "CI_PROB", 0.8)

    def legend_texts(fig):
        return [t.get_text() for legend in fig.legends + [a.get_legend() for a in fig.axes if a.get_legend()]
                for t in legend.get_texts()]
    assert "80% interval" in legend_texts(plots.coefficients(est))
    assert "posterior mean, 80% interval" in legend_texts(plots.prior_posterior(est, ["x0"]))
    assert "80% interval" in legend_texts(plots.predicted_probabilities(clf, Xc, labels))
    assert any("80%" in text for text in legend_texts(plots.posterior_predictive(clf, Xc, labels)))
    plt.close("all")


def test_prior_posterior_draws_the_exact_prior(fitted):
    X, y, est = fitted
    fig = plots.prior_posterior(est, ["x0", "x1"])
    axes = [ax for ax in fig.axes if ax.get_title() in ("x0", "x1")]
    assert len(axes) == 2
    for ax in axes:
        prior_line = next(line for line in ax.lines if line.get_label() == "prior")
        grid, density = prior_line.get_data()
        np.testing.assert_allclose(density, 0.5 * np.exp(-np.abs(grid)), rtol=1e-12)  # Laplace(1)
        assert grid.min() < 0 < grid.max()  # the prior's centre is in view
        # beneath the histogram: the summary's mean and 94% interval (ArviZ's own default is 89%)
        row = est.summary(ci_prob=0.94).loc[ax.get_title()]
        intervals = [line.get_xdata() for line in ax.lines
                     if len(line.get_xdata()) == 2 and line.get_label() != plots.MAP_LABEL]
        assert any(np.allclose(x, row[["eti94_lb", "eti94_ub"]].to_numpy(float)) for x in intervals)
        means = [c.get_offsets()[0][0] for c in ax.collections if isinstance(c, PathCollection)]
        np.testing.assert_allclose(means, [row["mean"]])
    labels = [text.get_text() for legend in fig.legends for text in legend.get_texts()]
    assert labels == ["posterior", "posterior mean, 94% interval", "prior", "MAP (penalized fit)"]
    with pytest.raises(ValueError, match="unknown features"):
        plots.prior_posterior(est, ["x0", "nope"])


@pytest.fixture(scope="module")
def default_prior_fit(fitted):
    """``prior=None`` (the default, Normal(2.5, autoscale=True)) on the first two features only."""
    X, y, _ = fitted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        return br.LinearRegression().fit(X[:, :2], y, **SAMPLER)


def test_prior_posterior_of_the_default_prior(fitted, default_prior_fit):
    fig = plots.prior_posterior(default_prior_fit)
    assert "prior Normal(scale=2.5, autoscale=True)" in fig.texts[0].get_text()
    X, y, _ = fitted
    for j, name in enumerate(("x0", "x1")):
        ax = next(ax for ax in fig.axes if ax.get_title() == name)
        grid, density = next(line for line in ax.lines if line.get_label() == "prior").get_data()
        scale = 2.5 * y.std() / X[:, j].std()  # autoscale: 2.5 sd(y) / sd(x_j)
        np.testing.assert_allclose(density, stats.norm(0, scale).pdf(grid), rtol=1e-12)


def test_forest_plot_refuses_fits_on_different_features(fitted, default_prior_fit):
    _, _, est = fitted
    with pytest.raises(ValueError, match="same features in the same order: 'lasso' has"):
        plots.coefficients({"lasso": est, "ridge": default_prior_fit})


def _horseshoe_reference(w, tau, prior):
    """``p(w | tau)`` by adaptive quadrature (scipy), the independent reference.

    Integrated over ``u = log lambda`` (and ``v = log c^2``), where the integrands are smooth
    bells: ``lambda p(lambda) = 1 / (pi cosh u)`` for the half-Cauchy. The densities are written
    out with ``math`` (scipy.stats' per-call overhead made the nested quadrature take a minute).
    """
    def normal_pdf(x, sd):
        return math.exp(-0.5 * (x / sd) ** 2) / (sd * math.sqrt(2 * math.pi))

    def given_slab(c2):
        def integrand(u):
            lam = math.exp(u)
            scale = lam if c2 is None else math.sqrt(c2 * lam**2 / (c2 + tau**2 * lam**2))
            return normal_pdf(w, tau * scale) / (math.pi * math.cosh(u))
        return integrate.quad(integrand, -40, 40, epsabs=0, epsrel=1e-9, limit=200)[0]
    if isinstance(prior, br.Horseshoe):
        return given_slab(None)
    nu, s = prior.slab_df, prior.slab_scale
    a = nu / 2  # c^2 / s^2 ~ Inv-Gamma(a, scale=a); x p(x) in v = log x:
    log_norm = a * math.log(a) - math.lgamma(a)
    slab_weight = lambda v: math.exp(log_norm - a * v - a * math.exp(-v))  # noqa: E731
    return integrate.quad(lambda v: given_slab(s**2 * math.exp(v)) * slab_weight(v), -30, 30,
                          epsabs=0, epsrel=1e-7, limit=100)[0]


@pytest.mark.parametrize("prior,w", [
    (br.Horseshoe(), [-3.0, -0.5, 0.01, 0.05, 0.3, 1.0, 4.0, 10.0, 20.0]),
    (br.RegularizedHorseshoe(3, slab_scale=2.0, slab_df=4.0), [-3.0, -0.5, 0.01, 0.3, 1.0, 4.0, 20.0]),
], ids=["horseshoe", "regularized"])
def test_horseshoe_marginal_density_matches_quadrature(prior, w):
    """Our fixed-node quadrature against scipy's adaptive one: they agree to ~1e-8 (1e-6 asserted,
    above the reference's own tolerance) from the spike near 0 out to ten slab scales."""
    tau = 0.7
    reference = np.array([_horseshoe_reference(value, tau, prior) for value in w])
    np.testing.assert_allclose(plots.horseshoe_density(prior, tau, np.array(w)), reference, rtol=1e-6)


def test_linear_posterior_predictive_check_leaves_the_fit_alone(fitted):
    X, y, est = fitted
    groups = set(est.idata_.children)
    fig = plots.posterior_predictive(est, X, y, n_replicates=40)
    ax = fig.axes[0]
    assert "posterior predictive check" in ax.get_title()
    assert fig.get_size_inches()[1] * fig.dpi >= 400  # was 257 px high
    assert _drawn_box(fig, ax.xaxis.label).y0 >= 0 and ax.get_xlabel() == "y"
    assert len([line for line in ax.lines if len(line.get_xdata()) > 2]) >= 40  # replicated densities
    assert set(est.idata_.children) == groups
    with pytest.raises(ValueError, match="different numbers of rows"):
        plots.posterior_predictive(est, X, y[:-1])
    with pytest.raises(ValueError, match="y contains NaN"):
        plots.posterior_predictive(est, X, np.where(np.arange(len(y)) == 3, np.nan, y))


def test_map_fits_have_nothing_to_plot(fitted):
    X, y, _ = fitted
    est = br.LinearRegression(br.Normal(1.0)).fit(X, y, method="map")
    for plot in (plots.coefficients, plots.prior_posterior):
        with pytest.raises(ValueError, match="needs a posterior"):
            plot(est)


@pytest.fixture(scope="module")
def classifier(breast_cancer):
    X, y = breast_cancer
    X = X[:, :4]
    labels = np.where(y == 1, "benign", "malignant")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        clf = br.LogisticRegression(br.Normal(1.0)).fit(X, labels, **SAMPLER)
    return X, labels, clf


def test_logistic_calibration_is_arviz_pav_plot(classifier):
    X, labels, clf = classifier
    fig = plots.posterior_predictive(clf, X, labels)
    ax = fig.axes[0]
    assert ax.get_title() == "calibration"
    assert "predicted probability of y = malignant" in ax.get_xlabel()
    assert "observed frequency of y = malignant" in ax.get_ylabel()
    assert _drawn_box(fig, ax.xaxis.label).y0 >= 0  # inside the figure, not cut off below it
    assert fig.get_size_inches()[1] * fig.dpi >= 400  # was 257 px high
    # the legend names the three things drawn: the observed curve, the band and the diagonal
    legend = fig.legends[0] if fig.legends else ax.get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert len(texts) == 3 and any("PAV" in t for t in texts) and any("perfect" in t for t in texts)
    assert any(f"{results.CI_PROB:.0%}" in t and "replicated" in t for t in texts)
    with pytest.raises(ValueError, match="not fitted on"):
        plots.posterior_predictive(clf, X, np.where(labels == "benign", "benign", "other"))


def test_predicted_probabilities_are_the_posterior_means(classifier):
    X, labels, clf = classifier
    fig = plots.predicted_probabilities(clf, X, labels)
    mean_line = next(line for line in fig.axes[0].lines if line.get_label() == "posterior mean")
    np.testing.assert_allclose(mean_line.get_ydata(), np.sort(clf.predict_proba(X)[:, 1]), rtol=1e-12)


def test_shrinkage_left_panel_is_the_exact_lasso_path_right_panel_the_posterior(fitted):
    """The lasso path has its kink inside the grid for any seed: x2 (true coefficient -1, n = 80,
    sigma = 1) is zero while |x2'r| <= sigma^2 / b, and |x2'r| is about 80 +- 15 at the MAP, far
    below 1 / 0.003 = 333 at the smallest scale and far above 1 at the largest."""
    X, y, _ = fitted
    scales = [0.003, 0.1, 1.0]
    with pytest.warns(SamplingWarning, match=r"^shrinkage: .*scale 0\.003: ") as caught:  # 40 draws: too few
        fig = plots.shrinkage(X, y, kind="lasso", scales=scales, sigma=1.0, draws=40, chains=2, path_points=30)
    assert len([w for w in caught if issubclass(w.category, SamplingWarning)]) == 1  # one report for all scales
    left, right = fig.axes
    legend = next(iter(fig.legends), None) or left.get_legend()
    box = _drawn_box(fig, legend)
    for ax in (left, right):  # the legend covers no curve: it is outside both axes
        assert not box.overlaps(ax.get_window_extent(fig.canvas.get_renderer()))
    assert f"{results.CI_PROB:.0%} interval" in right.get_title()
    for j, name in enumerate(["x0", "x1", "x2"]):
        path = next(line for line in left.lines if line.get_label() == name)
        grid, values = path.get_data()
        assert len(grid) >= 30 and set(scales) <= set(grid)
        expected = [br.LinearRegression(br.Laplace(s), sigma=1.0).fit(X, y, method="map").coef_[j] for s in grid]
        np.testing.assert_allclose(values, expected, rtol=1e-12, atol=0)
    assert np.any(values == 0.0) and np.any(values != 0.0)  # x2 leaves zero inside the grid: a kink
    means = [line for line in right.lines if len(line.get_xdata()) == len(scales)]
    assert len(means) == X.shape[1] and all(list(line.get_xdata()) == scales for line in means)


def test_plots_load_lazily_as_br_plots():
    """``import bayesreg`` does not import matplotlib; ``br.plots`` does, on first use."""
    import subprocess
    import sys

    code = ("import sys, bayesreg as br; assert 'matplotlib' not in sys.modules; "
            "assert br.plots.coefficients is not None; assert 'matplotlib' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_horseshoe_prior_curve_says_it_is_given_the_posterior_median_tau():
    """Issue 13 item 8: the figure, not only the docstring, says the curve is p(w | tau = median)."""
    import xarray as xr

    rng = np.random.default_rng(shifted(0))
    X = rng.normal(size=(50, 2))
    est = br.LinearRegression(br.Normal(1.0), sigma=1.0).fit(X, X[:, 0] + rng.normal(size=50), method="map")
    tau = np.exp(rng.normal(size=(2, 100)) - 1.0)
    est.idata_ = xr.DataTree.from_dict({"posterior": xr.Dataset(
        {"coef": (("chain", "draw", "feature"), rng.normal(size=(2, 100, 2))),
         "global_scale": (("chain", "draw"), tau)},
        coords={"chain": [0, 1], "draw": np.arange(100), "feature": ["x0", "x1"]})})
    est.set_params(prior=br.Horseshoe())
    est.prior_, est.map_ = br.Horseshoe(), None  # the prior as the fit used it
    fig = plots.prior_posterior(est)
    label = f"prior given τ = {np.median(tau):.3g} (posterior median)"
    assert label in [t.get_text() for t in fig.legends[0].get_texts()]
    ax = next(ax for ax in fig.axes if ax.get_title() == "x0")
    grid, density = next(line for line in ax.lines if line.get_label() == label).get_data()
    np.testing.assert_allclose(density, plots.horseshoe_density(br.Horseshoe(), np.median(tau), grid), rtol=1e-12)
    plt.close(fig)
